// Dead participants noticed in seconds, live ones kept (issue 13): the liveness decision with
// explicit time points, then the room acting on it on its tick (participant_left once,
// ParticipantInfo DISCONNECTED to the others, leave{RECONNECT} when a transport fails).
#include "signal/liveness.hpp"

#include <gtest/gtest.h>

#include "signal/session_harness.hpp"

namespace parlor::signal {
namespace {

using namespace std::chrono_literals;
using testing::FakeSignalSink;
using testing::SessionHarness;
using R = livekit::SignalResponse;
using TimePoint = PeerActivity::TimePoint;

const TimePoint t0 = TimePoint{} + 1000s;  // join time

LivenessTimeouts timeouts() { return {};  /* 3 s silence, 10 s consent, 15 s resume, 30 s connect */ }

// A participant whose only transport last heard its peer at `heard`, WebSocket lost at `lost`.
PeerActivity peer(std::optional<TimePoint> heard, std::optional<TimePoint> lost) {
  PeerActivity a;
  a.created = t0;
  a.media_connected = heard.has_value();
  a.last_heard[0] = heard;
  a.signal_lost_at = lost;
  return a;
}

TEST(Liveness, DefaultsFollowTheConfig) {
  config::RtcConfig rtc;
  auto t = LivenessTimeouts::from(rtc);
  EXPECT_EQ(t.peer_silence, 3s);
  EXPECT_EQ(t.ice_consent, 10s);
  rtc.peer_silence_timeout_seconds = 1.5;
  rtc.ice_consent_timeout_seconds = 30;
  t = LivenessTimeouts::from(rtc);
  EXPECT_EQ(t.peer_silence, 1500ms);
  EXPECT_EQ(t.ice_consent, 30s);
}

TEST(Liveness, DeadProcessGoesOnceItsMediaIsSilent) {
  // Killed at t0+20 s: the WebSocket closes at once, the last packet came just before.
  auto heard = t0 + 20s - 300ms;
  auto lost = t0 + 20s;
  auto p = peer(heard, lost);
  EXPECT_EQ(judge_liveness(p, timeouts(), lost), Liveness::kAlive);
  EXPECT_EQ(judge_liveness(p, timeouts(), heard + 2900ms), Liveness::kAlive);
  EXPECT_EQ(judge_liveness(p, timeouts(), heard + 3s), Liveness::kPeerGone);
}

TEST(Liveness, MediaSilentBeforeTheWebSocketWentMeansGoneAtOnce) {
  auto p = peer(t0 + 5s, t0 + 20s);
  EXPECT_EQ(judge_liveness(p, timeouts(), t0 + 20s), Liveness::kPeerGone);
}

TEST(Liveness, LiveMediaKeepsItsPlaceForTheResumeWindow) {
  auto lost = t0 + 20s;
  // Media keeps arriving (consent checks every 2.5 s, RTCP every second).
  for (auto now = lost; now <= lost + 15s; now += 400ms) {
    auto p = peer(now - 900ms, lost);
    EXPECT_EQ(judge_liveness(p, timeouts(), now), Liveness::kAlive) << (now - lost).count();
  }
  auto late = lost + 15s + 400ms;
  EXPECT_EQ(judge_liveness(peer(late - 500ms, lost), timeouts(), late), Liveness::kResumeExpired);
}

TEST(Liveness, NeverConnectedCountsFromTheWebSocketLoss) {
  auto lost = t0 + 2s;
  auto p = peer(std::nullopt, lost);
  EXPECT_EQ(judge_liveness(p, timeouts(), lost + 2s), Liveness::kAlive);
  EXPECT_EQ(judge_liveness(p, timeouts(), lost + 3s), Liveness::kPeerGone);
}

TEST(Liveness, AnyTransportHeardKeepsItAlive) {
  // v0: the publisher PC is silent (nothing published), the subscriber PC still hears checks.
  PeerActivity p = peer(t0 + 1s, t0 + 30s);
  p.last_heard[1] = t0 + 30s - 1s;
  EXPECT_EQ(judge_liveness(p, timeouts(), t0 + 31s), Liveness::kAlive);
  EXPECT_EQ(judge_liveness(p, timeouts(), t0 + 32s), Liveness::kPeerGone);
}

TEST(Liveness, SilentTransportWithOpenWebSocketFailsConsent) {
  auto heard = t0 + 5s;
  auto p = peer(heard, std::nullopt);
  EXPECT_EQ(judge_liveness(p, timeouts(), heard + 9900ms), Liveness::kAlive);
  EXPECT_EQ(judge_liveness(p, timeouts(), heard + 10s), Liveness::kConsentExpired);
  // Either transport failing is enough (v0 subscriber PC).
  PeerActivity two = peer(heard + 20s, std::nullopt);
  two.last_heard[1] = heard;
  EXPECT_EQ(judge_liveness(two, timeouts(), heard + 21s), Liveness::kConsentExpired);
}

TEST(Liveness, OpenWebSocketWithoutMediaWaitsForTheConnectDeadline) {
  auto p = peer(std::nullopt, std::nullopt);
  EXPECT_EQ(judge_liveness(p, timeouts(), t0 + 29s), Liveness::kAlive);
  EXPECT_EQ(judge_liveness(p, timeouts(), t0 + 31s), Liveness::kNeverConnected);
  // Checks arrive but DTLS has not finished: the same deadline, consent does not apply first.
  p.last_heard[0] = t0 + 28s;
  EXPECT_EQ(judge_liveness(p, timeouts(), t0 + 29s), Liveness::kAlive);
}

TEST(Liveness, ConfiguredTimeoutsApply) {
  LivenessTimeouts t;
  t.peer_silence = 1s;
  t.ice_consent = 2s;
  EXPECT_EQ(judge_liveness(peer(t0 + 10s, t0 + 10s), t, t0 + 11s), Liveness::kPeerGone);
  EXPECT_EQ(judge_liveness(peer(t0 + 10s, std::nullopt), t, t0 + 12s), Liveness::kConsentExpired);
}

// ---- the room acting on it ------------------------------------------------------------------

// The others learn it left: a ParticipantUpdate with it DISCONNECTED.
bool saw_disconnected(const FakeSignalSink& sink, const std::string& identity) {
  for (const auto& r : sink.of(R::kUpdate)) {
    for (const auto& p : r.update().participants()) {
      if (p.identity() == identity && p.state() == livekit::ParticipantInfo::DISCONNECTED) return true;
    }
  }
  return false;
}

TEST(RoomLiveness, ParticipantWithoutMediaLeavesSecondsAfterItsWebSocket) {
  SessionHarness h;
  auto alice = std::make_shared<FakeSignalSink>();
  auto bob = std::make_shared<FakeSignalSink>();
  h.run([&] {
    ASSERT_FALSE(h.join(SessionHarness::params("alice"), alice));
    ASSERT_FALSE(h.join(SessionHarness::params("bob"), bob));
    bob->drop();
    auto lost = std::chrono::steady_clock::now();
    h.room().tick(lost + 2s);
    EXPECT_TRUE(h.room().find("bob"));
    EXPECT_EQ(h.listener.left, 0);
    h.room().tick(lost + 3500ms);
    EXPECT_FALSE(h.room().find("bob"));
    EXPECT_EQ(h.listener.left, 1);
    EXPECT_TRUE(saw_disconnected(*alice, "bob"));
    h.room().tick(lost + 4s);
    EXPECT_EQ(h.listener.left, 1);  // once
    EXPECT_TRUE(h.room().find("alice"));
    EXPECT_TRUE(alice->open());
  });
}

TEST(RoomLiveness, ConfiguredSilenceTimeoutIsUsed) {
  SessionHarness h;
  h.config.rtc.peer_silence_timeout_seconds = 10;
  auto bob = std::make_shared<FakeSignalSink>();
  h.run([&] {
    ASSERT_FALSE(h.join(SessionHarness::params("bob"), bob));
    bob->drop();
    auto lost = std::chrono::steady_clock::now();
    h.room().tick(lost + 5s);
    EXPECT_TRUE(h.room().find("bob"));
    h.room().tick(lost + 10500ms);
    EXPECT_FALSE(h.room().find("bob"));
    EXPECT_EQ(h.listener.left, 1);
  });
}

TEST(RoomLiveness, OpenSessionWithoutMediaEndsAtTheConnectDeadline) {
  SessionHarness h;
  auto bob = std::make_shared<FakeSignalSink>();
  h.run([&] {
    ASSERT_FALSE(h.join(SessionHarness::params("bob"), bob));
    auto now = std::chrono::steady_clock::now();
    h.room().tick(now + 20s);
    EXPECT_TRUE(h.room().find("bob"));
    h.room().tick(now + 31s);
    EXPECT_FALSE(h.room().find("bob"));
    auto leaves = bob->of(R::kLeave);
    ASSERT_EQ(leaves.size(), 1u);
    EXPECT_EQ(leaves[0].leave().reason(), livekit::CONNECTION_TIMEOUT);
    EXPECT_FALSE(bob->open());
  });
}

}  // namespace
}  // namespace parlor::signal
