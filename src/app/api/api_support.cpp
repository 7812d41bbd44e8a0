#include "app/api/api_support.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>

#include "common/errors.hpp"

namespace parlor::app {

ApiError bad_request(const std::string& m) {
  return {400, "bad_request", m};
}
ApiError forbidden(const std::string& m) {
  return {403, "forbidden", m};
}
ApiError not_found(const std::string& what) {
  return {404, "not_found", what + " not found"};
}
ApiError conflict(const std::string& m) {
  return {409, "conflict", m};
}
ApiError method_not_allowed(const std::string& allowed) {
  return {405, "bad_request", "use " + allowed};
}

http::Response json_reply(int status, const json& body) {
  return http::Response::json(status, body.dump());
}

http::Response error_reply(int status, const std::string& code, const std::string& message) {
  return json_reply(status, {{"error", {{"code", code}, {"message", message}}}});
}

int64_t unix_now() {
  return time(nullptr);
}

std::string iso_time(int64_t t) {
  if (t == 0) return "";
  char buf[32];
  std::tm tm{};
  time_t tt = static_cast<time_t>(t);
  gmtime_r(&tt, &tm);
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t parse_time(const json& v, const char* field) {
  if (!v.is_string()) throw bad_request(std::string(field) + " must be an RFC 3339 time string");
  std::string s = v.get<std::string>();
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) throw bad_request(std::string(field) + " must look like 2026-01-31T14:00:00Z");
  int64_t t = timegm(&tm);
  std::string rest(end);
  if (!rest.empty() && rest[0] == '.') {  // fractional seconds
    size_t i = 1;
    while (i < rest.size() && isdigit(static_cast<unsigned char>(rest[i]))) ++i;
    rest = rest.substr(i);
  }
  if (rest == "Z" || rest.empty()) return t;
  int hh = 0, mm = 0;
  if ((rest[0] == '+' || rest[0] == '-') && sscanf(rest.c_str() + 1, "%d:%d", &hh, &mm) == 2) {
    int sign = rest[0] == '+' ? 1 : -1;
    return t - sign * (hh * 3600 + mm * 60);
  }
  throw bad_request(std::string(field) + " has an unreadable time zone");
}

json parse_body(const http::Request& req) {
  if (req.body.empty()) return json::object();
  auto ct = req.header("content-type");
  if (ct.find("application/json") == std::string::npos) {
    throw ApiError(415, "bad_request", "send the body as application/json");
  }
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) throw bad_request("the request body is not valid JSON");
  if (!j.is_object()) throw bad_request("the request body must be a JSON object");
  return j;
}

std::string need_string(const json& j, const char* field, size_t max, bool required) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (required) throw bad_request(std::string(field) + " is required");
    return "";
  }
  if (!it->is_string()) throw bad_request(std::string(field) + " must be a string");
  auto s = it->get<std::string>();
  if (required && s.empty()) throw bad_request(std::string(field) + " must not be empty");
  if (s.size() > max) throw bad_request(std::string(field) + " is too long");
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\n' && c != '\t') {
      throw bad_request(std::string(field) + " has control characters");
    }
  }
  return s;
}

long long need_id(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_number_integer() || it->get<long long>() <= 0) {
    throw bad_request(std::string(field) + " must be a positive integer id");
  }
  return it->get<long long>();
}

int need_int(const json& j, const char* field, int lo, int hi) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_number_integer()) {
    throw bad_request(std::string(field) + " must be an integer");
  }
  auto v = it->get<long long>();
  if (v < lo || v > hi) {
    throw bad_request(std::string(field) + " must be between " + std::to_string(lo) + " and " +
                      std::to_string(hi));
  }
  return static_cast<int>(v);
}

long long path_id(const std::string& s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    throw not_found("resource");
  }
  return std::stoll(s);
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    auto j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

std::string cookie_value(const http::Request& req, const std::string& name) {
  std::string cookies = req.header("cookie");
  size_t pos = 0;
  while (pos < cookies.size()) {
    auto end = cookies.find(';', pos);
    std::string part =
        cookies.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    auto b = part.find_first_not_of(' ');
    if (b != std::string::npos) part = part.substr(b);
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return "";
}

long long as_int(const soci::row& row, std::size_t i) {
  if (row.get_indicator(i) == soci::i_null) return 0;
  switch (row.get_properties(i).get_data_type()) {
    case soci::dt_integer:
      return row.get<int>(i);
    case soci::dt_long_long:
      return row.get<long long>(i);
    case soci::dt_unsigned_long_long:
      return static_cast<long long>(row.get<unsigned long long>(i));
    case soci::dt_double:
      return static_cast<long long>(row.get<double>(i));
    case soci::dt_string:
      return std::stoll(row.get<std::string>(i));
    default:
      throw InternalError("unexpected column type");
  }
}

}  // namespace parlor::app
