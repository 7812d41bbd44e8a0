#include "common/http/http_types.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "common/encoding.hpp"

namespace parlor::http {
namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}
}  // namespace

std::string Request::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string{} : it->second;
}

std::string Request::query_param(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string{} : it->second;
}

std::shared_ptr<FileBody> FileBody::open(const std::string& path, uint64_t offset,
                                         uint64_t length) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  return std::shared_ptr<FileBody>(new FileBody(fd, offset, length));
}

FileBody::~FileBody() {
  ::close(fd_);
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  return r;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

std::string Response::header(std::string_view name) const {
  auto want = lower(name);
  for (const auto& [k, v] : headers) {
    if (lower(k) == want) return v;
  }
  return {};
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    auto k = part.substr(0, eq);
    auto v = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    auto dk = common::url_decode(k), dv = common::url_decode(v);
    out[dk ? *dk : std::string(k)] = dv ? *dv : std::string(v);
  }
  return out;
}

}  // namespace parlor::http
