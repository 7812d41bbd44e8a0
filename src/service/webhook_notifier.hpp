#pragma once
// Delivers LiveKit webhooks (spec §7): proto3-JSON WebhookEvent bodies, signed with a bare JWT
// carrying the body's SHA-256, POSTed to every configured URL.
//
// Events go into a bounded queue and are sent by one background thread, in the order they were
// queued (so causal order holds, per room and overall), with retries and exponential backoff.
// Enqueueing never waits for delivery: when the queue is full the event is dropped and counted.
//
// With `webhook.queue_file` the queue is durable (service/webhook_journal.hpp): each event is
// appended to the file as it is queued and marked when delivered, so events not yet delivered
// when the server stops or is killed are delivered after it starts again, in order. A durable
// event is never given up: after `max_attempts` failed tries it is counted as failed once and
// then retried every few seconds until it is delivered (the app applies each event id once, so a
// delivery repeated across a crash changes nothing). Without a file, an event is dropped after
// `max_attempts`.
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
#include "service/webhook_journal.hpp"

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
  bool durable() const { return journal_.is_open(); }

  // The body and Authorization header for one event (exposed for tests).
  static std::string sign(const std::string& body, const std::string& api_key,
                          const std::string& secret);

 private:
  void run();
  // True when every URL took the event (or, without a journal, when it was given up); false
  // when the server is stopping before that.
  bool deliver(const std::string& body);
  void set_queued_gauge();  // under mutex_

  const config::MediaConfig& config_;
  std::atomic<uint64_t>& sent_;
  std::atomic<uint64_t>& failed_;
  std::atomic<uint64_t>& dropped_;
  std::atomic<uint64_t>& caught_;
  std::atomic<int64_t>& queued_;
  std::atomic<uint64_t>& journal_errors_;
  std::function<void(const Caught&)> on_caught_;  // guarded by mutex_
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<WebhookJournal::Event> queue_;  // the front is the one being delivered
  WebhookJournal journal_;                    // guarded by mutex_
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace parlor::service
