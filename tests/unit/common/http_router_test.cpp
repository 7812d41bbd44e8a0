#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "common/http/http_server.hpp"

namespace parlor::http {
namespace {

Request make(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

TEST(Router, ExactBeatsPrefixAndLongestPrefixWins) {
  Router router;
  router.add_prefix("*", "/twirp/", [](const Request&) { return Response::text(200, "generic"); });
  router.add_prefix("*", "/twirp/livekit.RoomService/",
                    [](const Request&) { return Response::text(200, "room"); });
  router.add("GET", "/twirp/exact", [](const Request&) { return Response::text(200, "exact"); });
  EXPECT_EQ(router.route(make("POST", "/twirp/livekit.RoomService/ListRooms")).body, "room");
  EXPECT_EQ(router.route(make("POST", "/twirp/other")).body, "generic");
  EXPECT_EQ(router.route(make("GET", "/twirp/exact")).body, "exact");
}

TEST(Router, UnknownPathIs404AndWrongMethodIs405) {
  Router router;
  router.add("GET", "/a", [](const Request&) { return Response::text(200, "a"); });
  EXPECT_EQ(router.route(make("GET", "/b")).status, 404);
  EXPECT_EQ(router.route(make("POST", "/a")).status, 405);
  EXPECT_EQ(router.route(make("HEAD", "/a")).status, 200);
}

TEST(Router, HandlerErrorsBecomeStatuses) {
  Router router;
  router.add("GET", "/bad", [](const Request&) -> Response { throw BadInput("nope"); });
  router.add("GET", "/auth", [](const Request&) -> Response { throw Unauthenticated("who"); });
  router.add("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("x"); });
  EXPECT_EQ(router.route(make("GET", "/bad")).status, 400);
  EXPECT_EQ(router.route(make("GET", "/auth")).status, 401);
  auto boom = router.route(make("GET", "/boom"));
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(boom.body, "internal error");  // no internals leak
}

TEST(Router, CorsPreflightAndHeaders) {
  Router router;
  router.add("GET", "/a", [](const Request&) { return Response::text(200, "a"); });
  auto pre = make("OPTIONS", "/anything");
  pre.headers["access-control-request-headers"] = "authorization";
  auto res = router.route(pre);
  EXPECT_EQ(res.status, 204);
  EXPECT_EQ(res.header("Access-Control-Allow-Headers"), "authorization");
  EXPECT_EQ(router.route(make("GET", "/a")).header("access-control-allow-origin"), "*");
}

TEST(Router, FallbackServesUnmatchedGets) {
  Router router;
  router.set_fallback([](const Request&) { return Response::text(200, "index"); });
  EXPECT_EQ(router.route(make("GET", "/some/page")).body, "index");
  EXPECT_EQ(router.route(make("POST", "/some/page")).status, 404);
}

TEST(Query, ParsesAndDecodes) {
  auto q = parse_query("access_token=a.b.c&auto_subscribe=1&name=J%C3%BCrgen+X&flag&bad=%zz");
  EXPECT_EQ(q["access_token"], "a.b.c");
  EXPECT_EQ(q["name"], "J\xc3\xbcrgen X");
  EXPECT_EQ(q.count("flag"), 1u);
  EXPECT_EQ(q["bad"], "%zz");
}

}  // namespace
}  // namespace parlor::http
