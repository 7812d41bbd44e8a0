#include "service/twirp.hpp"

#include <google/protobuf/util/json_util.h>

#include <map>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"

namespace parlor::service {

void serve_twirp(http::Respond respond,
                 const std::function<std::optional<http::Response>(const http::RespondOnce&)>& dispatch,
                 const std::function<http::Response()>& on_exception) {
  http::RespondOnce reply(std::move(respond), [] {
    return twirp_error_response("unavailable", "the media server is stopping");
  });
  std::optional<http::Response> now;
  try {
    now = dispatch(reply);
  } catch (...) {
    now = on_exception();
  }
  if (now) reply(std::move(*now));
}

int twirp_http_status(const std::string& code) {
  static const std::map<std::string, int> kStatus{
      {"invalid_argument", 400}, {"malformed", 400},        {"out_of_range", 400},
      {"unauthenticated", 401},  {"permission_denied", 403}, {"not_found", 404},
      {"bad_route", 404},        {"already_exists", 409},    {"aborted", 409},
      {"failed_precondition", 412}, {"resource_exhausted", 429}, {"internal", 500},
      {"unknown", 500},          {"data_loss", 500},         {"unimplemented", 501},
      {"unavailable", 503},      {"canceled", 408},          {"deadline_exceeded", 408}};
  auto it = kStatus.find(code);
  return it == kStatus.end() ? 500 : it->second;
}

http::Response twirp_error_response(const std::string& code, const std::string& msg) {
  nlohmann::json body = {{"code", code}, {"msg", msg}};
  // Node's client parses error JSON only when the type is exactly application/json. The message
  // may quote the request (a path, a header) in any bytes: replace what is not UTF-8 rather
  // than throw.
  return http::Response::json(twirp_http_status(code),
                              body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

http::Response twirp_error_from_current_exception(
    const std::function<void(const Caught&)>& on_unexpected) {
  try {
    throw;
  } catch (const TwirpError& e) {
    return twirp_error_response(e.code(), e.what());
  } catch (const BadInput& e) {
    return twirp_error_response("invalid_argument", e.what());
  } catch (...) {
    if (on_unexpected) guarded([&] { on_unexpected(describe_current_exception()); });
    return twirp_error_response("internal", "internal error");
  }
}

TwirpEncoding twirp_encoding(const http::Request& request) {
  std::string ct = request.header("content-type");
  auto semi = ct.find(';');
  if (semi != std::string::npos) ct.resize(semi);
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  for (auto& c : ct) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ct == "application/json") return TwirpEncoding::kJson;
  if (ct == "application/protobuf" || ct == "application/x-protobuf") {
    return TwirpEncoding::kProtobuf;
  }
  throw TwirpError("bad_route", "unexpected Content-Type: '" + request.header("content-type") +
                                    "' (want application/json or application/protobuf)");
}

void decode_twirp(const http::Request& request, TwirpEncoding enc,
                  google::protobuf::Message& message) {
  if (enc == TwirpEncoding::kProtobuf) {
    if (!message.ParseFromString(request.body)) {
      throw TwirpError("malformed", "the request body is not a valid " +
                                        message.GetDescriptor()->name() + " protobuf");
    }
    return;
  }
  std::string body = request.body.empty() ? "{}" : request.body;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(body, &message, opts);
  if (!status.ok()) {
    throw TwirpError("malformed", "the request body is not valid " +
                                      message.GetDescriptor()->name() +
                                      " JSON: " + std::string(status.message()));
  }
}

std::string to_proto_json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  (void)google::protobuf::util::MessageToJsonString(message, &out, opts);
  return out;
}

http::Response encode_twirp(const google::protobuf::Message& message, TwirpEncoding enc) {
  http::Response res;
  if (enc == TwirpEncoding::kProtobuf) {
    res.body = message.SerializeAsString();
    res.headers.emplace_back("Content-Type", "application/protobuf");
  } else {
    res.body = to_proto_json(message);
    res.headers.emplace_back("Content-Type", "application/json");
  }
  return res;
}

}  // namespace parlor::service
