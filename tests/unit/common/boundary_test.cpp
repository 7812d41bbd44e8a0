// Exception boundaries (issue 10): guarded() catches everything; the HTTP router turns any
// handler exception into a status and reports it.
#include "common/boundary.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "common/errors.hpp"
#include "common/http/http_server.hpp"

namespace parlor {
namespace {

TEST(Boundary, GuardedCatchesEverythingAndTellsBadInputApart) {
  EXPECT_FALSE(guarded([] {}));
  auto bad = guarded([] { throw BadInput("no such thing"); });
  ASSERT_TRUE(bad);
  EXPECT_TRUE(bad->bad_input);
  EXPECT_EQ(bad->message, "no such thing");
  auto internal = guarded([] { throw std::out_of_range("index"); });
  ASSERT_TRUE(internal);
  EXPECT_FALSE(internal->bad_input);
  EXPECT_EQ(internal->message, "index");
  auto odd = guarded([] { throw 42; });
  ASSERT_TRUE(odd);
  EXPECT_FALSE(odd->bad_input);
}

TEST(Boundary, RouterTurnsAnyHandlerExceptionIntoAStatusAndReportsIt) {
  http::Router router;
  std::vector<std::string> reported;
  router.set_caught_handler(
      [&](const char* boundary, const http::Request& req, const Caught& caught) {
        reported.push_back(std::string(boundary) + " " + req.path + " " + caught.message);
      });
  router.add("GET", "/bad",
             [](const http::Request&) -> http::Response { throw BadInput("bad thing"); });
  router.add("GET", "/int", [](const http::Request&) -> http::Response { throw 7; });
  router.add("GET", "/std", [](const http::Request&) -> http::Response {
    throw std::runtime_error("secret detail");
  });
  router.set_fallback(
      [](const http::Request&) -> http::Response { throw std::logic_error("fallback"); });
  auto get = [&](std::string path) {
    http::Request r;
    r.method = "GET";
    r.path = std::move(path);
    return router.route(r);
  };
  EXPECT_EQ(get("/bad").status, 400);
  auto r = get("/int");
  EXPECT_EQ(r.status, 500);
  r = get("/std");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);  // no internals to the caller
  EXPECT_EQ(get("/elsewhere").status, 500);
  ASSERT_EQ(reported.size(), 4u);
  EXPECT_EQ(reported[0], "http /bad bad thing");
  EXPECT_EQ(reported[2], "http /std secret detail");
}

TEST(Boundary, AThrowingUpgradeHandlerIsReportedNotPropagated) {
  http::Router router;
  int reported = 0;
  router.set_caught_handler([&](const char* boundary, const http::Request&, const Caught&) {
    EXPECT_STREQ(boundary, "ws_upgrade");
    ++reported;
  });
  boost::asio::io_context io;
  http::UpgradeHandler handler = [](http::Request, http::BeastRequest, http::UpgradeStream,
                                    boost::beast::flat_buffer) {
    throw std::runtime_error("boom");
  };
  router.upgrade(handler, http::Request{}, http::BeastRequest{},
                 http::UpgradeStream(std::in_place_index<0>, boost::beast::tcp_stream(io)), {});
  EXPECT_EQ(reported, 1);
}

}  // namespace
}  // namespace parlor
