#pragma once
// Plain request/response values shared by the HTTP server, its handlers and tests. Handlers are
// pure functions Response(const Request&) (as in Beast's advanced server example): they never
// touch sockets, so they can be unit-tested without a network.
#include <cstdint>
#include <map>
#include <memory>
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
  bool secure = false;  // arrived over TLS on this server's own listener

  // Header value by case-insensitive name; empty if absent.
  std::string header(std::string_view name) const;
  std::string query_param(const std::string& name) const;
  bool has_query(const std::string& name) const { return query.count(name) != 0; }
};

// An open file, or a byte range of one, sent as a response body instead of Response::body. The
// server reads it in chunks of ServerOptions::file_chunk_bytes as the client takes them, so a
// download's memory stays bounded whatever the file's size. Closes the file when destroyed.
class FileBody {
 public:
  // Opens `path` read-only; nullptr if it cannot be opened. `offset + length` must lie within
  // the file (the caller checked the size).
  static std::shared_ptr<FileBody> open(const std::string& path, uint64_t offset, uint64_t length);
  ~FileBody();
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;
  int fd() const { return fd_; }
  uint64_t offset() const { return offset_; }
  uint64_t length() const { return length_; }

 private:
  FileBody(int fd, uint64_t offset, uint64_t length) : fd_(fd), offset_(offset), length_(length) {}
  int fd_;
  uint64_t offset_, length_;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::shared_ptr<FileBody> file;  // when set, sent instead of `body` (Content-Length = its length)

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
