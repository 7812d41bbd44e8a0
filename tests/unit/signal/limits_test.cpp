#include "signal/limits.hpp"

#include <gtest/gtest.h>

namespace parlor::signal {
namespace {

using Clock = TokenBucket::Clock;
using namespace std::chrono_literals;

TEST(TokenBucket, SpendsItsBurstThenRefillsAtTheRate) {
  auto t0 = Clock::now();
  TokenBucket b(10, 5, t0);  // 10/s, burst 5
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.take(1, t0));
  EXPECT_FALSE(b.take(1, t0));
  EXPECT_FALSE(b.take(1, t0 + 50ms));  // half a token
  EXPECT_TRUE(b.take(1, t0 + 150ms));
  EXPECT_NEAR(b.tokens(t0 + 10s), 5.0, 1e-9);  // never more than the burst
  EXPECT_FALSE(b.take(6, t0 + 10s));           // too big: nothing taken
  EXPECT_NEAR(b.tokens(t0 + 10s), 5.0, 1e-9);
}

TEST(SignalRateLimiter, DropsAboveTheRateAndDisconnectsAPersistentFlood) {
  config::LimitConfig limits;
  limits.signal_messages_per_second = 10;
  limits.signal_burst = 20;
  auto t0 = Clock::now();
  SignalRateLimiter r(limits, t0);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r.admit(t0), SignalRateLimiter::Verdict::kAccept);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r.admit(t0), SignalRateLimiter::Verdict::kDrop);
  EXPECT_EQ(r.admit(t0), SignalRateLimiter::Verdict::kDisconnect);
}

TEST(SignalRateLimiter, AClientAtTheRateIsNeverRefused) {
  config::LimitConfig limits;
  limits.signal_messages_per_second = 10;
  limits.signal_burst = 5;
  auto t = Clock::now();
  SignalRateLimiter r(limits, t);
  for (int i = 0; i < 1000; ++i) {
    t += 100ms;
    ASSERT_EQ(r.admit(t), SignalRateLimiter::Verdict::kAccept) << i;
  }
}

TEST(SignalRateLimiter, ALeaveIsRecognisedFromItsFirstTag) {
  livekit::SignalRequest leave;
  leave.mutable_leave()->set_reason(livekit::CLIENT_INITIATED);
  EXPECT_TRUE(is_leave_request(leave.SerializeAsString()));
  livekit::SignalRequest empty_leave;
  empty_leave.mutable_leave();
  EXPECT_TRUE(is_leave_request(empty_leave.SerializeAsString()));
  livekit::SignalRequest ping;
  ping.set_ping(1);
  EXPECT_FALSE(is_leave_request(ping.SerializeAsString()));
  livekit::SignalRequest add;
  add.mutable_add_track()->set_name(std::string(300, 'n'));
  EXPECT_FALSE(is_leave_request(add.SerializeAsString()));
  EXPECT_FALSE(is_leave_request(""));
}

TEST(DataRateLimiter, BoundsPacketsAndBytes) {
  config::LimitConfig limits;
  limits.data_packets_per_second = 3;
  limits.data_bytes_per_second = 1000;
  auto t0 = Clock::now();
  DataRateLimiter d(limits, t0);
  EXPECT_TRUE(d.admit(600, t0));
  EXPECT_FALSE(d.admit(600, t0));  // bytes
  EXPECT_TRUE(d.admit(100, t0));
  EXPECT_TRUE(d.admit(100, t0));
  EXPECT_FALSE(d.admit(1, t0));  // packets
  EXPECT_TRUE(d.admit(600, t0 + 1s));
}

TEST(Limits, AddTrackRequestSizes) {
  config::LimitConfig limits;
  limits.max_track_name_length = 8;
  limits.max_track_layers = 2;
  limits.max_track_codecs = 1;
  livekit::AddTrackRequest r;
  r.set_cid("cid");
  r.set_name("camera");
  EXPECT_FALSE(check_add_track(r, limits));
  auto bad = r;
  bad.set_name(std::string(9, 'x'));
  EXPECT_TRUE(check_add_track(bad, limits));
  bad = r;
  bad.set_stream(std::string(9, 'x'));
  EXPECT_TRUE(check_add_track(bad, limits));
  bad = r;
  bad.set_cid(std::string(9, 'x'));
  EXPECT_TRUE(check_add_track(bad, limits));
  bad = r;
  for (int i = 0; i < 3; ++i) bad.add_layers();
  EXPECT_TRUE(check_add_track(bad, limits));
  bad = r;
  bad.add_simulcast_codecs();
  EXPECT_FALSE(check_add_track(bad, limits));
  bad.add_simulcast_codecs();
  EXPECT_TRUE(check_add_track(bad, limits));
  bad = r;
  for (int i = 0; i < 3; ++i) bad.add_simulcast_codecs()->add_layers();
  EXPECT_TRUE(check_add_track(bad, limits));
  bad = r;
  for (int i = 0; i < 17; ++i) bad.add_audio_features(livekit::TF_STEREO);
  EXPECT_TRUE(check_add_track(bad, limits));
}

TEST(Limits, TheEchoOfARefusedRequestDropsOversizedFields) {
  config::LimitConfig limits;
  limits.max_track_name_length = 8;
  livekit::AddTrackRequest r;
  r.set_cid("cid-1");
  r.set_name(std::string(1 << 19, 'n'));
  r.set_stream(std::string(1 << 19, 's'));
  r.set_type(livekit::VIDEO);
  auto e = echo_of(r, limits);
  EXPECT_EQ(e.cid(), "cid-1");
  EXPECT_TRUE(e.name().empty());
  EXPECT_TRUE(e.stream().empty());
  EXPECT_EQ(e.type(), livekit::VIDEO);
  EXPECT_LT(e.ByteSizeLong(), 64u);
}

TEST(Limits, AttributesAfterAnUpdateAreBoundedByCountAndBytes) {
  config::LimitConfig limits;
  limits.max_attributes_count = 2;
  limits.max_attributes_size = 10;
  std::map<std::string, std::string> current{{"a", "1"}};
  google::protobuf::Map<std::string, std::string> update;
  update["b"] = "2";
  EXPECT_FALSE(check_attributes(current, update, limits));
  update["c"] = "3";
  EXPECT_TRUE(check_attributes(current, update, limits));  // three keys
  update["a"] = "";                                        // ... unless one is deleted
  EXPECT_FALSE(check_attributes(current, update, limits));
  google::protobuf::Map<std::string, std::string> big;
  big["k"] = std::string(10, 'v');
  EXPECT_TRUE(check_attributes(current, big, limits));  // 1+1 + 1+10 bytes
  auth::ClaimGrants claims;
  claims.metadata = std::string(limits.max_metadata_size + 1, 'm');
  EXPECT_TRUE(check_join_claims(claims, limits));
  claims.metadata.clear();
  claims.attributes = {{"x", "1"}, {"y", "2"}, {"z", "3"}};
  EXPECT_TRUE(check_join_claims(claims, limits));
  claims.attributes.erase("z");
  EXPECT_FALSE(check_join_claims(claims, limits));
}

}  // namespace
}  // namespace parlor::signal
