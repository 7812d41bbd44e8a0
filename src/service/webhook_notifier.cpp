#include "service/webhook_notifier.hpp"

#include <openssl/sha.h>

#include "common/auth/access_token.hpp"
#include "common/encoding.hpp"
#include "common/http/http_client.hpp"
#include "service/twirp.hpp"

namespace parlor::service {

namespace {
constexpr auto kWebhookTokenTtl = std::chrono::minutes(5);  // LiveKit signs for 5 minutes
constexpr auto kFirstRetryDelay = std::chrono::milliseconds(200);
constexpr auto kMaxRetryDelay = std::chrono::seconds(5);
}  // namespace

WebhookNotifier::WebhookNotifier(const config::MediaConfig& config, Metrics& metrics)
    : config_(config),
      sent_(metrics.counter("parlor_webhooks_sent_total", "Webhook deliveries that got a 2xx")),
      failed_(metrics.counter("parlor_webhooks_failed_total",
                              "Webhook deliveries abandoned after all retries")),
      dropped_(metrics.counter("parlor_webhooks_dropped_total",
                               "Webhook events dropped because the queue was full")),
      caught_(metrics.caught("webhook")),
      queued_(metrics.gauge("parlor_webhooks_queued", "Webhook events queued and not yet delivered")),
      journal_errors_(metrics.counter("parlor_webhooks_queue_file_errors_total",
                                      "Writes to webhook.queue_file that did not complete (disk full?)")) {
  if (!enabled()) return;
  if (!config_.webhook.queue_file.empty()) {
    for (auto& e : journal_.open(config_.webhook.queue_file)) queue_.push_back(std::move(e));
    set_queued_gauge();
  }
  thread_ = std::thread([this] { run(); });
}

void WebhookNotifier::set_queued_gauge() { queued_ = static_cast<int64_t>(queue_.size()); }

WebhookNotifier::~WebhookNotifier() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string WebhookNotifier::sign(const std::string& body, const std::string& api_key,
                                  const std::string& secret) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  auth::ClaimGrants claims;
  claims.api_key = api_key;
  claims.sha256 = common::base64_encode({digest, sizeof(digest)});
  auth::MintOptions opts;
  opts.ttl = std::chrono::duration_cast<std::chrono::seconds>(kWebhookTokenTtl);
  return auth::mint_token(claims, secret, opts);
}

void WebhookNotifier::notify(livekit::WebhookEvent event) {
  if (!enabled()) return;
  if (event.id().empty()) event.set_id(common::random_id("EV_"));
  if (event.created_at() == 0) {
    event.set_created_at(std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
  }
  WebhookJournal::Event queued{event.id(), to_proto_json(event)};
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= config_.webhook.queue_size) {
      dropped_++;
      return;
    }
    // One append(2)-sized write to the page cache: a process killed after this loses nothing.
    if (journal_.is_open() && !journal_.append(queued)) journal_errors_++;  // kept in memory
    queue_.push_back(std::move(queued));
    set_queued_gauge();
  }
  cv_.notify_all();
}

void WebhookNotifier::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [this] { return queue_.empty() && !busy_; });
}

void WebhookNotifier::set_caught_handler(std::function<void(const Caught&)> handler) {
  std::lock_guard lock(mutex_);
  on_caught_ = std::move(handler);
}

void WebhookNotifier::run() {
  for (;;) {
    WebhookJournal::Event event;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      if (stopping_ && journal_.is_open()) return;  // the file keeps the rest for the next start
      event = queue_.front();
      busy_ = true;
    }
    // The event's record reaches the disk before it is first sent. Outside the lock, so that
    // notify() on a media worker never waits for the disk (only this thread replaces the file).
    journal_.sync();
    bool finished = true;
    auto caught = guarded([&] { finished = deliver(event.body); });
    std::function<void(const Caught&)> report;
    {
      std::lock_guard lock(mutex_);
      busy_ = false;
      if (finished || caught) {
        // Delivered, given up, or thrown (a bug: dropped and counted, never retried forever).
        queue_.pop_front();
        if (journal_.is_open()) {
          if (!journal_.done(event.id)) journal_errors_++;
          if (journal_.needs_compaction()) journal_.compact({queue_.begin(), queue_.end()});
        }
        set_queued_gauge();
      }
      if (caught) report = on_caught_;
    }
    if (caught) {
      caught_++;
      if (report) guarded([&] { report(*caught); });
    }
    cv_.notify_all();
    if (!finished && !caught) return;  // stopping mid-retry: the event stays queued (and on file)
  }
}

bool WebhookNotifier::deliver(const std::string& body) {
  std::string key = config_.webhook.api_key.empty() ? config_.keys.begin()->first
                                                    : config_.webhook.api_key;
  auto secret = config_.keys.at(key);
  const bool durable = journal_.is_open();
  http::HttpClient client(config_.webhook.ca_file);
  for (const auto& url : config_.webhook.urls) {
    auto delay = kFirstRetryDelay;
    bool ok = false;
    const uint32_t attempts = std::max<uint32_t>(1, config_.webhook.max_attempts);
    for (uint32_t attempt = 0;; ++attempt) {
      if (attempt == attempts) {
        failed_++;  // counted once per event and URL
        if (!durable) break;
      }
      // A fresh token per attempt keeps exp valid through long retry sequences.
      std::map<std::string, std::string> headers{
          {"Content-Type", "application/webhook+json"},
          {"Authorization", sign(body, key, secret)},
          {"User-Agent", "LiveKit"}};
      auto res = client.request("POST", url, headers, body,
                                std::chrono::milliseconds(config_.webhook.timeout_ms));
      if (res.status >= 200 && res.status < 300) {
        ok = true;
        break;
      }
      {
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, delay, [this] { return stopping_; })) return false;
      }
      delay = std::min<std::chrono::milliseconds>(delay * 2, kMaxRetryDelay);
    }
    if (ok) sent_++;
  }
  return true;
}

}  // namespace parlor::service
