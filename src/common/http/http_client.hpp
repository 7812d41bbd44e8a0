#pragma once
// Blocking outbound HTTP on libcurl (webhooks, the app's Twirp calls to the media tier).
// One HttpClient per thread; each call is independent. TLS, proxies and timeouts are curl's.
#include <chrono>
#include <map>
#include <string>

namespace parlor::http {

struct ClientResponse {
  int status = 0;       // 0 when no response arrived
  std::string body;
  std::string error;    // transport error text when status == 0
  std::map<std::string, std::string> headers;  // lower-cased names
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  ClientResponse request(const std::string& method, const std::string& url,
                         const std::map<std::string, std::string>& headers,
                         const std::string& body,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  void* curl_;  // CURL*
};

}  // namespace parlor::http
