#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

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

TEST(Router, AsyncRoutesAnswerLaterAndPlainRoutesStillWork) {
  Router router;
  Respond pending;
  router.add_async("*", "/api/", true, [&](const Request&, Respond respond) { pending = respond; });
  router.add_async("POST", "/hook", false,
                   [](const Request&, Respond respond) { respond(Response::text(200, "hook")); });
  router.add_async("GET", "/throws", false,
                   [](const Request&, Respond) { throw std::runtime_error("x"); });
  router.add("GET", "/plain", [](const Request&) { return Response::text(200, "plain"); });
  std::vector<Response> got;
  auto collect = [&](Response r) { got.push_back(std::move(r)); };

  router.route_async(make("GET", "/api/visits"), collect);
  EXPECT_TRUE(got.empty());  // not answered yet
  ASSERT_TRUE(pending);
  pending(Response::text(201, "later"));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, 201);
  EXPECT_EQ(got[0].header("Access-Control-Allow-Origin"), "*");  // CORS as for plain routes

  router.route_async(make("POST", "/hook"), collect);
  EXPECT_EQ(got.back().body, "hook");
  router.route_async(make("POST", "/hookx"), collect);  // exact: not a prefix
  EXPECT_EQ(got.back().status, 404);
  router.route_async(make("GET", "/throws"), collect);
  EXPECT_EQ(got.back().status, 500);
  router.route_async(make("GET", "/plain"), collect);
  EXPECT_EQ(got.back().body, "plain");
  EXPECT_EQ(got.size(), 5u);
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
