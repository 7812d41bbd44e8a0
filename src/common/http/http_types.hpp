#pragma once
// Plain request/response values shared by the HTTP server, its handlers and tests. Handlers are
// pure functions Response(const Request&) (as in Beast's advanced server example): they never
// touch sockets, so they can be unit-tested without a network.
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parlor::http {

struct Request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // raw request target, e.g. "/rtc?access_token=..."
  std::string path;     // target without the query, percent-decoded
  std::map<std::string, std::string> query;    // decoded query parameters (last one wins)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string remote_address;

  // Header value by case-insensitive name; empty if absent.
  std::string header(std::string_view name) const;
  std::string query_param(const std::string& name) const;
  bool has_query(const std::string& name) const { return query.count(name) != 0; }
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static Response text(int status, std::string body);
  static Response json(int status, std::string body);
  Response& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  std::string header(std::string_view name) const;
};

// Parses "a=1&b=x%20y" into a map; invalid escapes keep the raw text.
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace parlor::http
