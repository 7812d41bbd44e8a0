// A busy media worker does not stall the control threads: while a task holds the worker, more
// RoomService participant calls wait on it than there are control threads, and /metrics and
// ListRooms still answer (the bound the issue asks for: promptly, here under 3 s); released, the
// waiting calls are answered from the worker.
#include <gtest/gtest.h>

#include <future>
#include <regex>
#include <thread>

#include "common/auth/access_token.hpp"
#include "common/http/http_client.hpp"
#include "service/media_server.hpp"

namespace parlor::service {
namespace {

constexpr const char* kKey = "APIkey";
constexpr const char* kSecret = "a-secret-of-at-least-thirty-two-characters";
constexpr auto kPrompt = std::chrono::seconds(3);  // /metrics' own deadline is 1 s

std::string admin_token() {
  auth::ClaimGrants claims;
  claims.api_key = kKey;
  claims.identity = "backend";
  auth::VideoGrant grant;
  grant.room_admin = grant.room_create = grant.room_list = true;
  grant.room = "busy";
  claims.video = grant;
  return auth::mint_token(claims, kSecret);
}

class Client {
 public:
  explicit Client(uint16_t port) : base_("http://127.0.0.1:" + std::to_string(port)) {}
  http::ClientResponse twirp(const std::string& method, const std::string& body) {
    return http_.request(
        "POST", base_ + "/twirp/livekit.RoomService/" + method,
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + admin_token()}}, body,
        std::chrono::seconds(20));
  }
  http::ClientResponse get(const std::string& path) {
    return http_.request("GET", base_ + path, {}, "", std::chrono::seconds(20));
  }

 private:
  std::string base_;
  http::HttpClient http_;
};

uint64_t requests_counted(const std::string& metrics) {
  std::smatch m;
  static const std::regex re("parlor_http_requests_total (\\d+)");
  return std::regex_search(metrics, m, re) ? std::stoull(m[1]) : 0;
}

TEST(MediaServerBusyWorker, MetricsAndRegistryAnswerWhileParticipantCallsWaitOnTheWorker) {
  config::MediaConfig config;
  config.port = 0;
  config.rtc.udp_port = 0;
  config.keys[kKey] = kSecret;
  config.logging.level = "warn";
  MediaServer server(config);
  server.start();
  Client client(server.http_port());
  ASSERT_EQ(client.twirp("CreateRoom", R"({"name":"busy"})").status, 200);

  std::promise<void> entered, release;
  auto released = release.get_future().share();
  // The worker that runs the room's participant calls (with several workers, one of them).
  server.worker(server.live_rooms()->worker_for("busy"))->post([&entered, released] {
    entered.set_value();
    released.wait();
  });
  entered.get_future().wait();

  constexpr int kWaiting = 3;  // more than the server's control threads
  std::vector<std::future<http::ClientResponse>> waiting;
  for (int i = 0; i < kWaiting; ++i) {
    waiting.push_back(std::async(std::launch::async, [&] {
      Client c(server.http_port());
      return c.twirp("ListParticipants", R"({"room":"busy"})");
    }));
  }
  // /metrics answers (with the counters last published) while the worker is held; wait until it
  // counts the participant calls as received.
  uint64_t metrics_calls = 0;
  for (;;) {
    auto start = std::chrono::steady_clock::now();
    auto m = client.get("/metrics");
    ++metrics_calls;
    ASSERT_EQ(m.status, 200) << m.error;
    EXPECT_LT(std::chrono::steady_clock::now() - start, kPrompt);
    if (requests_counted(m.body) >= 1 + kWaiting + metrics_calls) break;
  }
  auto start = std::chrono::steady_clock::now();
  auto listed = client.twirp("ListRooms", "{}");
  EXPECT_EQ(listed.status, 200);
  EXPECT_NE(listed.body.find("\"busy\""), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, kPrompt);
  for (auto& w : waiting) {
    EXPECT_EQ(w.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
        << "answered before the worker ran";
  }

  release.set_value();
  for (auto& w : waiting) {
    auto r = w.get();
    EXPECT_EQ(r.status, 200) << r.body << r.error;
  }
  server.stop();
}

}  // namespace
}  // namespace parlor::service
