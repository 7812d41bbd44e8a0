// A session that sends bad input ends alone (issue 10): driven through the SignalSink seam with
// a fake sink, a garbage join offer gets a clear error, leave{STATE_MISMATCH, RECONNECT} and a
// close, while the room and the participant already in it carry on; bad later offers get a
// request_response error and the session goes on.
#include <gtest/gtest.h>

#include "signal/session_harness.hpp"

namespace parlor::signal {
namespace {

using testing::FakeSignalSink;
using testing::SessionHarness;
using R = livekit::SignalResponse;

// A browser-like offer: an audio and a video section (receive only), BUNDLEd.
std::string offer_sdp(bool video_fingerprint = true) {
  std::string fp =
      "a=fingerprint:sha-256 "
      "6C:D8:DD:BC:53:D2:E2:D9:2D:C5:81:5E:28:C0:F6:DB:6D:45:62:1D:67:1C:6B:6C:"
      "1B:B0:89:43:A9:17:C3:45\r\n";
  std::string ice = "a=ice-ufrag:cNi0\r\na=ice-pwd:k4n7eCxGSTUw+Y3R97Ii4WXs\r\na=setup:actpass\r\n";
  return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n" +
         ice + fp +
         "a=mid:0\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
         "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n" +
         ice + (video_fingerprint ? fp : "") +
         "a=mid:1\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n";
}

livekit::SessionDescription offer(const std::string& sdp, uint32_t id = 1) {
  livekit::SessionDescription d;
  d.set_type("offer");
  d.set_sdp(sdp);
  d.set_id(id);
  return d;
}

std::string offer_request(const std::string& sdp) {
  livekit::SignalRequest r;
  *r.mutable_offer() = offer(sdp);
  return r.SerializeAsString();
}

// Sends a ping_req and expects the matching pong_resp.
void expect_alive(FakeSignalSink& sink, int64_t ts) {
  livekit::SignalRequest ping;
  ping.mutable_ping_req()->set_timestamp(ts);
  sink.deliver(ping.SerializeAsString());
  auto pongs = sink.of(R::kPongResp);
  ASSERT_FALSE(pongs.empty());
  EXPECT_EQ(pongs.back().pong_resp().last_ping_timestamp(), ts);
}

TEST(SessionBoundary, GarbageJoinOfferEndsOnlyThatSession) {
  SessionHarness h;
  auto alice = std::make_shared<FakeSignalSink>();
  auto mallory = std::make_shared<FakeSignalSink>();
  auto bob = std::make_shared<FakeSignalSink>();
  h.run([&] {
    ASSERT_FALSE(h.join(SessionHarness::params("alice"), alice));
    auto p = SessionHarness::params("mallory");
    p.publisher_offer = offer("v=0\r\ngarbage");
    auto failed = h.join(std::move(p), mallory);
    ASSERT_TRUE(failed);
    EXPECT_TRUE(failed->bad_input);

    // Mallory: the join response, then a clear error, then LiveKit's negotiation-failed leave.
    auto errors = mallory->of(R::kRequestResponse);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].request_response().reason(), livekit::RequestResponse::INVALID_REQUEST);
    EXPECT_NE(errors[0].request_response().message().find("invalid SDP offer"), std::string::npos);
    auto leaves = mallory->of(R::kLeave);
    ASSERT_EQ(leaves.size(), 1u);
    EXPECT_EQ(leaves[0].leave().reason(), livekit::STATE_MISMATCH);
    EXPECT_EQ(leaves[0].leave().action(), livekit::LeaveRequest::RECONNECT);
    EXPECT_TRUE(leaves[0].leave().can_reconnect());
    EXPECT_EQ(mallory->responses.back().message_case(), R::kLeave);
    EXPECT_FALSE(mallory->open());
    EXPECT_FALSE(mallory->attached());

    // The room goes on without it; nobody heard of it.
    EXPECT_EQ(h.room().find("mallory"), nullptr);
    ASSERT_NE(h.room().find("alice"), nullptr);
    EXPECT_EQ(h.room().info().num_participants(), 1u);
    EXPECT_EQ(h.listener.joined, 1);
    EXPECT_EQ(h.listener.left, 0);
    for (const auto& u : alice->of(R::kUpdate)) {
      for (const auto& info : u.update().participants()) EXPECT_NE(info.identity(), "mallory");
    }
    expect_alive(*alice, 42);
    EXPECT_TRUE(alice->escaped.empty());

    // A new join afterwards works, and alice hears of it.
    ASSERT_FALSE(h.join(SessionHarness::params("bob"), bob));
    EXPECT_EQ(bob->of(R::kJoin).size(), 1u);
    bool told = false;
    for (const auto& u : alice->of(R::kUpdate)) {
      for (const auto& info : u.update().participants()) told = told || info.identity() == "bob";
    }
    EXPECT_TRUE(told);
  });
}

TEST(SessionBoundary, JoinOffersThatAreEmptyHugeOrLackAFingerprintEndTheSession) {
  SessionHarness h;
  auto alice = std::make_shared<FakeSignalSink>();
  h.run([&] { ASSERT_FALSE(h.join(SessionHarness::params("alice"), alice)); });
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "SDP is empty"},
      {std::string(70 * 1024, 'x'), "invalid SDP offer"},
      {offer_sdp(false), "a=fingerprint"},
  };
  int n = 0;
  for (const auto& [sdp, why] : bad) {
    auto sink = std::make_shared<FakeSignalSink>();
    h.run([&] {
      auto p = SessionHarness::params("m" + std::to_string(n++));
      p.publisher_offer = offer(sdp);
      ASSERT_TRUE(h.join(std::move(p), sink));
      auto errors = sink->of(R::kRequestResponse);
      ASSERT_EQ(errors.size(), 1u);
      EXPECT_NE(errors[0].request_response().message().find(why), std::string::npos)
          << errors[0].request_response().message();
      ASSERT_EQ(sink->of(R::kLeave).size(), 1u);
      EXPECT_FALSE(sink->open());
      EXPECT_EQ(h.room().info().num_participants(), 1u);
      expect_alive(*alice, 100 + n);
    });
  }
  // The same offer with its fingerprint is answered: the check refuses only what is wrong.
  auto good = std::make_shared<FakeSignalSink>();
  h.run([&] {
    auto p = SessionHarness::params("good");
    p.publisher_offer = offer(offer_sdp(true));
    ASSERT_FALSE(h.join(std::move(p), good));
    EXPECT_EQ(good->of(R::kAnswer).size(), 1u);
    EXPECT_TRUE(good->of(R::kRequestResponse).empty());
  });
}

TEST(SessionBoundary, BadLaterOffersGetARequestResponseAndTheSessionGoesOn) {
  SessionHarness h;
  auto alice = std::make_shared<FakeSignalSink>();
  auto bob = std::make_shared<FakeSignalSink>();
  h.run([&] {
    ASSERT_FALSE(h.join(SessionHarness::params("alice"), alice));
    ASSERT_FALSE(h.join(SessionHarness::params("bob"), bob));
    int ts = 1;
    for (const std::string& sdp : {std::string("v=0\r\ngarbage"), std::string(),
                                   std::string(70 * 1024, 'x'), offer_sdp(false)}) {
      size_t before = alice->of(R::kRequestResponse).size();
      alice->deliver(offer_request(sdp));
      auto errors = alice->of(R::kRequestResponse);
      ASSERT_EQ(errors.size(), before + 1);
      EXPECT_EQ(errors.back().request_response().reason(),
                livekit::RequestResponse::INVALID_REQUEST);
      EXPECT_NE(errors.back().request_response().message().find("SDP offer"), std::string::npos);
      EXPECT_TRUE(alice->open());
      expect_alive(*alice, ++ts);
      expect_alive(*bob, ++ts);
    }
    EXPECT_TRUE(alice->escaped.empty());
    EXPECT_TRUE(alice->of(R::kLeave).empty());
    EXPECT_EQ(h.room().info().num_participants(), 2u);
    // A good offer afterwards is answered.
    alice->deliver(offer_request(offer_sdp(true)));
    EXPECT_EQ(alice->of(R::kAnswer).size(), 1u);
  });
}

TEST(SessionBoundary, MalformedFramesAreDroppedSilently) {
  SessionHarness h;
  auto alice = std::make_shared<FakeSignalSink>();
  h.run([&] {
    ASSERT_FALSE(h.join(SessionHarness::params("alice"), alice));
    size_t before = alice->responses.size();
    alice->deliver(std::string("\xff\xff\xff\x01\x02", 5));
    alice->deliver("");
    EXPECT_EQ(alice->responses.size(), before);
    expect_alive(*alice, 7);
  });
}

}  // namespace
}  // namespace parlor::signal
