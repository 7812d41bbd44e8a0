#pragma once
// Delivers LiveKit webhooks (spec §7): proto3-JSON WebhookEvent bodies, signed with a bare JWT
// carrying the body's SHA-256, POSTed to every configured URL.
//
// Events go into a bounded queue and are sent by one background thread, in the order they were
// queued (so causal order holds), with retries and exponential backoff. Enqueueing never blocks:
// when the queue is full the event is dropped and counted. Nothing on a room's path waits for
// delivery.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/boundary.hpp"
#include "common/config/media_config.hpp"
#include "livekit_webhook.pb.h"
#include "service/metrics.hpp"

namespace parlor::service {

class WebhookNotifier {
 public:
  WebhookNotifier(const config::MediaConfig& config, Metrics& metrics);
  ~WebhookNotifier();
  WebhookNotifier(const WebhookNotifier&) = delete;
  WebhookNotifier& operator=(const WebhookNotifier&) = delete;

  // Fills id and created_at, then queues the event. Thread-safe, non-blocking.
  void notify(livekit::WebhookEvent event);
  // Waits (up to `timeout`) until the queue has drained; used at shutdown.
  void flush(std::chrono::milliseconds timeout);
  // Told (on the delivery thread) about an exception one delivery threw; that event is dropped,
  // counted as parlor_exceptions_caught_total{boundary="webhook"}, and the thread goes on.
  void set_caught_handler(std::function<void(const Caught&)> handler);

  bool enabled() const { return !config_.webhook.urls.empty(); }

  // The body and Authorization header for one event (exposed for tests).
  static std::string sign(const std::string& body, const std::string& api_key,
                          const std::string& secret);

 private:
  void run();
  void deliver(const std::string& body);

  const config::MediaConfig& config_;
  std::atomic<uint64_t>& sent_;
  std::atomic<uint64_t>& failed_;
  std::atomic<uint64_t>& dropped_;
  std::atomic<uint64_t>& caught_;
  std::function<void(const Caught&)> on_caught_;  // guarded by mutex_
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace parlor::service
