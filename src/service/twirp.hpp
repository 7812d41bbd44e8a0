#pragma once
// Twirp transport for LiveKit's server API (spec §6.1): JSON (proto3 mapping) or binary
// protobuf bodies, answered in the request's encoding, and Twirp error bodies.
#include <google/protobuf/message.h>

#include <functional>
#include <optional>
#include <string>

#include "common/boundary.hpp"
#include "common/http/http_server.hpp"
#include "common/http/http_types.hpp"
#include "common/http/respond_once.hpp"

namespace parlor::service {

// A Twirp error; `code` is a Twirp code string ("not_found", "invalid_argument", ...).
class TwirpError : public std::runtime_error {
 public:
  TwirpError(std::string code, const std::string& msg)
      : std::runtime_error(msg), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

enum class TwirpEncoding { kJson, kProtobuf };

// From the Content-Type (parameters ignored); throws TwirpError(bad_route) for anything else.
TwirpEncoding twirp_encoding(const http::Request& request);
// Fills `message` from the body; throws TwirpError(malformed) with the parser's reason.
void decode_twirp(const http::Request& request, TwirpEncoding enc, google::protobuf::Message& message);
http::Response encode_twirp(const google::protobuf::Message& message, TwirpEncoding enc);
// Never throws (bytes that are not UTF-8 in `msg` are replaced).
http::Response twirp_error_response(const std::string& code, const std::string& msg);
// The Twirp boundary, for use inside a catch block: the exception being handled as a Twirp
// error. TwirpError keeps its code, BadInput is invalid_argument; anything else is `internal`
// (500, no detail to the caller) and is reported to `on_unexpected` (log and count it).
http::Response twirp_error_from_current_exception(
    const std::function<void(const Caught&)>& on_unexpected);
int twirp_http_status(const std::string& code);

// An asynchronous Twirp service's entry: `dispatch` answers at once (a response) or later through
// the RespondOnce it is given (work posted to a worker); whatever it throws is answered by
// `on_exception` (called inside the catch block, e.g. twirp_error_from_current_exception). A
// service that stops before answering answers `unavailable`. `respond` is called exactly once.
void serve_twirp(http::Respond respond,
                 const std::function<std::optional<http::Response>(const http::RespondOnce&)>& dispatch,
                 const std::function<http::Response()>& on_exception);

// proto3 JSON as LiveKit's Go protojson writes it: lowerCamelCase, defaults omitted, int64 as
// strings, enums as names.
std::string to_proto_json(const google::protobuf::Message& message);

}  // namespace parlor::service
