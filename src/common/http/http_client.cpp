#include "common/http/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>

namespace parlor::http {
namespace {

size_t write_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t write_header(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    auto v = line.substr(colon + 1);
    auto b = v.find_first_not_of(" \t"), e = v.find_last_not_of(" \t\r\n");
    (*static_cast<std::map<std::string, std::string>*>(user))[name] =
        b == std::string::npos ? "" : v.substr(b, e - b + 1);
  }
  return size * n;
}

}  // namespace

HttpClient::HttpClient(std::string ca_file) : curl_(curl_easy_init()), ca_file_(std::move(ca_file)) {}
HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

ClientResponse HttpClient::request(const std::string& method, const std::string& url,
                                   const std::map<std::string, std::string>& headers,
                                   const std::string& body, std::chrono::milliseconds timeout) {
  ClientResponse out;
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) {
    out.error = "curl unavailable";
    return out;
  }
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  // Certificates are always verified; only the trust anchors can be chosen.
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file_.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  if (method != "GET" && method != "HEAD") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, write_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    out.status = static_cast<int>(status);
  } else {
    out.error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(list);
  return out;
}

}  // namespace parlor::http
