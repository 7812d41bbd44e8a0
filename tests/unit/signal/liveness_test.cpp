// Dead participants noticed in seconds, live ones kept (issue 13): the liveness decision with
// explicit time points, then the room acting on it on its tick (participant_left once,
// ParticipantInfo DISCONNECTED to the others, leave{RESUME} when a transport fails, then leave{RECONNECT}
// if the resume brought no media).
#include "signal/liveness.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "rtc/ice_checks.hpp"
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

TEST(Liveness, ARequestedResumeGetsItsTimeThenFails) {
  auto heard = t0 + 5s;
  auto p = peer(heard, std::nullopt);
  p.resume_requested_at = heard + 10s;
  EXPECT_EQ(judge_liveness(p, timeouts(), heard + 12s), Liveness::kAlive);   // resuming
  EXPECT_EQ(judge_liveness(p, timeouts(), heard + 20s), Liveness::kMediaFailed);
  // The client closes its WebSocket to resume: silence counts from the request, not from the
  // last packet, so it is not taken for a dead process at once.
  p.signal_lost_at = heard + 10s + 50ms;
  EXPECT_EQ(judge_liveness(p, timeouts(), heard + 11s), Liveness::kAlive);
  EXPECT_EQ(judge_liveness(p, timeouts(), heard + 13s), Liveness::kPeerGone);  // never came back
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

// ---- with a peer that sends ICE checks ----------------------------------------------------------

// A browser-like offer (one audio section, receive only) with ICE credentials kClientUfrag/Pwd.
constexpr const char* kClientUfrag = "cNi0";
livekit::SessionDescription audio_offer() {
  livekit::SessionDescription d;
  d.set_type("offer");
  d.set_id(1);
  d.set_sdp(
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
      "a=ice-ufrag:cNi0\r\na=ice-pwd:k4n7eCxGSTUw+Y3R97Ii4WXs\r\na=setup:actpass\r\n"
      "a=fingerprint:sha-256 6C:D8:DD:BC:53:D2:E2:D9:2D:C5:81:5E:28:C0:F6:DB:6D:45:62:1D:67:1C:6B:6C:"
      "1B:B0:89:43:A9:17:C3:45\r\n"
      "a=mid:0\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n");
  return d;
}

std::string sdp_value(const std::string& sdp, const std::string& key) {
  auto at = sdp.find("a=" + key + ":");
  if (at == std::string::npos) return {};
  at += key.size() + 3;
  return sdp.substr(at, sdp.find_first_of("\r\n", at) - at);
}

// The client side of the ICE checks: a UDP socket on loopback.
class CheckSender {
 public:
  explicit CheckSender(uint16_t port) : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    to_.sin_family = AF_INET;
    to_.sin_port = htons(port);
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  ~CheckSender() { ::close(fd_); }
  void send(const std::vector<uint8_t>& packet) {
    ASSERT_EQ(::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof(to_)),
              static_cast<ssize_t>(packet.size()));
  }

 private:
  int fd_;
  sockaddr_in to_{};
};

// Joins `identity` with an offer and sends one nominating ICE check; returns when the server
// heard it (the time it did), or nullopt.
std::optional<TimePoint> join_and_check(SessionHarness& h, const std::string& identity,
                                        const std::shared_ptr<FakeSignalSink>& sink) {
  std::string ufrag, pwd;
  h.run([&] {
    auto p = SessionHarness::params(identity);
    p.publisher_offer = audio_offer();
    ASSERT_FALSE(h.join(std::move(p), sink));
    auto answers = sink->of(R::kAnswer);
    ASSERT_EQ(answers.size(), 1u);
    ufrag = sdp_value(answers[0].answer().sdp(), "ice-ufrag");
    pwd = sdp_value(answers[0].answer().sdp(), "ice-pwd");
  });
  if (ufrag.empty() || pwd.empty()) return std::nullopt;
  CheckSender client(h.udp_port());
  client.send(rtc::test_support::ice_check(ufrag + ":" + kClientUfrag, pwd, true));
  std::optional<TimePoint> heard;
  for (int i = 0; i < 500 && !heard; ++i) {  // polls up to 5 s for the worker to handle it
    h.run([&] {
      if (auto* p = h.room().find(identity)) heard = p->activity().last_heard[0];
    });
    if (!heard) std::this_thread::sleep_for(10ms);
  }
  return heard;
}

TEST(RoomLiveness, SilentTransportWithOpenWebSocketIsAskedToResumeThenToReconnect) {
  SessionHarness h;
  auto alice = std::make_shared<FakeSignalSink>();
  auto bob = std::make_shared<FakeSignalSink>();
  h.run([&] { ASSERT_FALSE(h.join(SessionHarness::params("alice"), alice)); });
  auto heard = join_and_check(h, "bob", bob);
  ASSERT_TRUE(heard) << "the ICE check never reached bob's transport";
  h.run([&] {
    h.room().tick(*heard + 9s);
    EXPECT_TRUE(h.room().find("bob"));
    EXPECT_TRUE(bob->of(R::kLeave).empty());
    // The media path broke (a changed network): a resume keeps the session.
    h.room().tick(*heard + 10s + 100ms);
    EXPECT_TRUE(h.room().find("bob"));
    auto leaves = bob->of(R::kLeave);
    ASSERT_EQ(leaves.size(), 1u);
    EXPECT_EQ(leaves[0].leave().action(), livekit::LeaveRequest::RESUME);
    EXPECT_TRUE(leaves[0].leave().can_reconnect());
    EXPECT_EQ(leaves[0].leave().reason(), livekit::MEDIA_FAILURE);
    h.room().tick(*heard + 15s);
    EXPECT_EQ(bob->of(R::kLeave).size(), 1u) << "asked once";
    // Still nothing heard another consent period later: removed, told to reconnect.
    h.room().tick(*heard + 20s + 200ms);
    EXPECT_FALSE(h.room().find("bob"));
    leaves = bob->of(R::kLeave);
    ASSERT_EQ(leaves.size(), 2u);
    EXPECT_EQ(leaves[1].leave().action(), livekit::LeaveRequest::RECONNECT);
    EXPECT_EQ(leaves[1].leave().reason(), livekit::MEDIA_FAILURE);
    EXPECT_FALSE(bob->open());
    EXPECT_EQ(h.listener.left, 1);
    EXPECT_TRUE(saw_disconnected(*alice, "bob"));
  });
}

TEST(RoomLiveness, LostWebSocketWithLiveMediaWaitsForSilence) {
  SessionHarness h;
  auto bob = std::make_shared<FakeSignalSink>();
  auto heard = join_and_check(h, "bob", bob);
  ASSERT_TRUE(heard) << "the ICE check never reached bob's transport";
  h.run([&] {
    bob->drop();
    // Measured from the last packet, not from the loss of the WebSocket.
    h.room().tick(*heard + 2500ms);
    EXPECT_TRUE(h.room().find("bob"));
    h.room().tick(*heard + 3s + 100ms);
    EXPECT_FALSE(h.room().find("bob"));
    EXPECT_EQ(h.listener.left, 1);
  });
}

}  // namespace
}  // namespace parlor::signal
