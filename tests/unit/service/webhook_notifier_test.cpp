#include "service/webhook_notifier.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include "common/auth/access_token.hpp"
#include "common/encoding.hpp"

namespace parlor::service {
namespace {

TEST(WebhookSigning, TokenCarriesTheBodyHashAndVerifies) {
  std::string body = R"({"event":"room_started","room":{"name":"r"}})";
  auto token = WebhookNotifier::sign(body, "devkey", "secret");
  EXPECT_EQ(token.rfind("Bearer", 0), std::string::npos);  // a bare JWT
  auto claims = auth::verify_token(token, [](const std::string& k) -> std::optional<std::string> {
    return k == "devkey" ? std::optional<std::string>("secret") : std::nullopt;
  });
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  EXPECT_EQ(claims.sha256, common::base64_encode({digest, sizeof(digest)}));
  EXPECT_EQ(claims.sha256.back(), '=');  // standard base64 with padding
  auto ttl = claims.expires_at - std::chrono::system_clock::now();
  EXPECT_LE(ttl, std::chrono::minutes(5));
  EXPECT_GT(ttl, std::chrono::minutes(4));
}

TEST(WebhookNotifier, DisabledWithoutUrlsAndDropsWhenFull) {
  config::MediaConfig c;
  c.keys = {{"devkey", "secret"}};
  Metrics m;
  WebhookNotifier off(c, m);
  EXPECT_FALSE(off.enabled());
  livekit::WebhookEvent e;
  e.set_event("room_started");
  off.notify(e);  // no thread, nothing queued, no crash

  c.webhook.urls = {"http://127.0.0.1:9/unreachable"};  // discard port: connection refused
  c.webhook.queue_size = 2;
  c.webhook.max_attempts = 1;
  c.webhook.timeout_ms = 200;
  WebhookNotifier on(c, m);
  for (int i = 0; i < 20; ++i) on.notify(e);
  auto text = m.render();
  EXPECT_NE(text.find("parlor_webhooks_dropped_total"), std::string::npos);
  EXPECT_GT(m.counter("parlor_webhooks_dropped_total", "").load(), 0u);
}

}  // namespace
}  // namespace parlor::service
