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
  // `ca_file`: a PEM bundle of the CAs (or the self-signed certificates) trusted for https URLs
  // instead of the system's store; empty = the system's store. A certificate in it is trusted
  // as an anchor even when it is not a CA's (curl's partial-chain default), so the server's own
  // certificate file works too. Host names are always checked.
  explicit HttpClient(std::string ca_file = "");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  ClientResponse request(const std::string& method, const std::string& url,
                         const std::map<std::string, std::string>& headers,
                         const std::string& body,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  void* curl_;  // CURL*
  std::string ca_file_;
};

}  // namespace parlor::http
