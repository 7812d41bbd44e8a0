#pragma once
// A minimal client of Janus's HTTP JSON API (https://janus.conf.meetecho.com/docs/rest.html) for
// `parlor load --janus URL`: one session, plugin handles, messages with JSEP, and events read by
// long polling. Synchronous, for the generator's control thread (and one keepalive thread);
// media never goes through it.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace parlor::load {

class JanusClient {
 public:
  // `url`: http://host:port/janus. Throws parlor::BadInput for another form.
  explicit JanusClient(const std::string& url);

  // POST to the server root / the session / a handle; returns the JSON reply. Throws
  // parlor::InternalError when Janus answers with an error or not at all.
  nlohmann::json create_session();
  uint64_t attach(const std::string& plugin);
  // A plugin message (with an optional JSEP); the synchronous reply ("success" or "ack").
  nlohmann::json message(uint64_t handle, const nlohmann::json& body,
                         const nlohmann::json& jsep = nullptr);
  // Trickles our one candidate for the handle's PeerConnection, then end-of-candidates.
  void trickle(uint64_t handle, const std::string& candidate);
  void keepalive();
  void destroy();

  // The first event from `handle` that `match` accepts, within `timeout` (long polls as needed;
  // events for other handles are kept for later calls).
  nlohmann::json wait_event(uint64_t handle,
                            const std::function<bool(const nlohmann::json&)>& match,
                            std::chrono::milliseconds timeout);

  uint64_t session() const { return session_; }

 private:
  nlohmann::json post(const std::string& path, nlohmann::json body);
  std::string request(bool post, const std::string& target, const std::string& body);

  std::string host_, port_, base_;
  uint64_t session_ = 0;
  uint64_t next_transaction_ = 1;
  std::mutex mutex_;  // next_transaction_ (the keepalive thread posts too)
  std::deque<nlohmann::json> events_;
};

}  // namespace parlor::load
