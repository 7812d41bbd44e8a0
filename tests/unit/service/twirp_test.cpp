#include "service/twirp.hpp"
#include "common/errors.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "livekit_room.pb.h"
#include "livekit_webhook.pb.h"

namespace parlor::service {
namespace {

http::Request request(std::string content_type, std::string body) {
  http::Request r;
  r.method = "POST";
  r.headers["content-type"] = std::move(content_type);
  r.body = std::move(body);
  return r;
}

TEST(Twirp, EncodingFromContentTypeIgnoresParameters) {
  EXPECT_EQ(twirp_encoding(request("application/json;charset=UTF-8", "")), TwirpEncoding::kJson);
  EXPECT_EQ(twirp_encoding(request("Application/Protobuf", "")), TwirpEncoding::kProtobuf);
  EXPECT_THROW(twirp_encoding(request("text/plain", "")), TwirpError);
}

TEST(Twirp, JsonAcceptsCamelAndSnakeCaseAndIgnoresUnknownFields) {
  livekit::CreateRoomRequest a, b;
  decode_twirp(request("application/json", R"({"name":"r","emptyTimeout":30,"extra":1})"),
               TwirpEncoding::kJson, a);
  decode_twirp(request("application/json", R"({"name":"r","empty_timeout":30})"),
               TwirpEncoding::kJson, b);
  EXPECT_EQ(a.empty_timeout(), 30u);
  EXPECT_EQ(b.empty_timeout(), 30u);
}

TEST(Twirp, EmptyBodyIsAnEmptyMessage) {
  livekit::ListRoomsRequest r;
  decode_twirp(request("application/json", ""), TwirpEncoding::kJson, r);
  EXPECT_EQ(r.names_size(), 0);
}

TEST(Twirp, MalformedBodiesThrowMalformed) {
  livekit::CreateRoomRequest r;
  try {
    decode_twirp(request("application/json", "{"), TwirpEncoding::kJson, r);
    FAIL();
  } catch (const TwirpError& e) {
    EXPECT_EQ(e.code(), "malformed");
  }
  EXPECT_THROW(decode_twirp(request("application/protobuf", "\xff\xff\xff"),
                            TwirpEncoding::kProtobuf, r),
               TwirpError);
}

TEST(Twirp, JsonOutputIsProto3Mapping) {
  livekit::Room room;
  room.set_name("r");
  room.set_creation_time(1700000000);
  room.set_num_participants(0);
  auto json = nlohmann::json::parse(to_proto_json(room));
  EXPECT_EQ(json["name"], "r");
  EXPECT_EQ(json["creationTime"], "1700000000");  // int64 as a string
  EXPECT_FALSE(json.contains("numParticipants"));  // defaults omitted
}

TEST(Twirp, ProtobufRoundTripIsByteExact) {
  livekit::SendDataRequest r;
  r.set_room("room");
  r.set_data(std::string("\x00\x01\x02", 3));
  r.set_kind(livekit::DataPacket::LOSSY);
  r.add_destination_identities("alice");
  auto res = encode_twirp(r, TwirpEncoding::kProtobuf);
  EXPECT_EQ(res.header("content-type"), "application/protobuf");
  livekit::SendDataRequest back;
  decode_twirp(request("application/protobuf", res.body), TwirpEncoding::kProtobuf, back);
  EXPECT_EQ(back.SerializeAsString(), r.SerializeAsString());
}

TEST(Twirp, ErrorsMapToStatusesWithJsonBodies) {
  auto res = twirp_error_response("not_found", "requested room does not exist");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.header("Content-Type"), "application/json");
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["code"], "not_found");
  EXPECT_EQ(body["msg"], "requested room does not exist");
  EXPECT_EQ(twirp_http_status("unauthenticated"), 401);
  EXPECT_EQ(twirp_http_status("permission_denied"), 403);
  EXPECT_EQ(twirp_http_status("resource_exhausted"), 429);
  EXPECT_EQ(twirp_http_status("unimplemented"), 501);
  EXPECT_EQ(twirp_http_status("whatever"), 500);
}

}  // namespace
}  // namespace parlor::service

namespace parlor::service {
namespace {

TEST(TwirpBoundary, UnexpectedExceptionsAreInternalAndReported) {
  int reported = 0;
  auto from = [&](auto thrower) {
    try {
      thrower();
    } catch (...) {
      return twirp_error_from_current_exception([&](const Caught&) { ++reported; });
    }
    return http::Response{};
  };
  auto r = from([] { throw 42; });
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("\"internal\""), std::string::npos);
  r = from([] { throw std::runtime_error("detail"); });
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("detail"), std::string::npos);
  EXPECT_EQ(reported, 2);
  r = from([] { throw TwirpError("not_found", "no room"); });
  EXPECT_EQ(r.status, 404);
  r = from([] { throw BadInput("bad"); });
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid_argument"), std::string::npos);
  EXPECT_EQ(reported, 2);  // expected errors are not reported as caught exceptions
}

TEST(TwirpBoundary, ErrorMessagesThatAreNotUtf8DoNotThrow) {
  // A Twirp error may quote the request path or a header, in any bytes.
  auto r = twirp_error_response("bad_route", std::string("no such method: \xff\xfe"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("bad_route"), std::string::npos);
}

}  // namespace
}  // namespace parlor::service
