#pragma once
// Small helpers shared by the app's HTTP handlers (docs/api.md): the API error type and its
// reply shape {"error":{"code","message"}}, body and field parsing, RFC 3339 times, path and
// cookie parsing, and reading integer columns from SOCI rows. Pure functions, no state.
#include <soci/soci.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/http/http_types.hpp"

namespace parlor::app {

using json = nlohmann::json;

// An API error with its HTTP status and stable code (docs/api.md). Thrown by handlers and
// turned into an error reply at the one boundary, AppApi::dispatch.
struct ApiError : std::runtime_error {
  int status;
  std::string code;
  ApiError(int s, std::string c, const std::string& m)
      : std::runtime_error(m), status(s), code(std::move(c)) {}
};

ApiError bad_request(const std::string& message);
ApiError forbidden(const std::string& message = "you are not allowed to do that");
ApiError not_found(const std::string& what);  // "<what> not found"
ApiError conflict(const std::string& message);
ApiError method_not_allowed(const std::string& allowed);

http::Response json_reply(int status, const json& body);
http::Response error_reply(int status, const std::string& code, const std::string& message);

int64_t unix_now();
// "2026-01-31T14:00:00Z"; empty for 0 (unset).
std::string iso_time(int64_t t);
// RFC 3339 with optional fractional seconds and Z or ±hh:mm; throws bad_request naming `field`.
int64_t parse_time(const json& v, const char* field);

// The request body as a JSON object (empty body = {}); 415 unless sent as application/json.
json parse_body(const http::Request& req);
// Field readers: each throws bad_request with the field's name when the value is unusable.
std::string need_string(const json& j, const char* field, size_t max = 200, bool required = true);
long long need_id(const json& j, const char* field);
int need_int(const json& j, const char* field, int lo, int hi);
// A numeric path segment; anything else is a 404 (the resource cannot exist).
long long path_id(const std::string& s);

std::vector<std::string> split_path(const std::string& path);
std::string cookie_value(const http::Request& req, const std::string& name);

inline bool is_staff(const std::string& role) {
  return role == "staff" || role == "admin";
}

// Integer column of a dynamic row, whatever width the backend reports it with (SQLite says
// "integer" for INTEGER PRIMARY KEY and "long long" for BIGINT; PostgreSQL varies likewise).
long long as_int(const soci::row& row, std::size_t i);

}  // namespace parlor::app
