// The server-mute gate of a published track (RoomService MutePublishedTrack): while it is closed
// no subscriber receives anything of the track (forwarded, retransmitted or asked for), and when
// it opens every subscriber resumes with numbering continuous across the gap.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "rtc/rtp/rtp_packet.hpp"
#include "sfu/down_track.hpp"
#include "sfu/up_track.hpp"

namespace parlor::sfu {
namespace {

using namespace std::chrono_literals;

struct Sent {
  uint16_t seq;
  uint32_t ts;
};

class Sink : public rtc::RtpSink {
 public:
  bool send_rtp(std::span<const uint8_t> plain) override {
    std::vector<uint8_t> copy(plain.begin(), plain.end());
    auto p = rtc::RtpPacketView::parse(copy);
    EXPECT_TRUE(p.has_value());
    if (p) sent.push_back({p->sequence(), p->timestamp()});
    return true;
  }
  std::vector<Sent> sent;
};

// An RTP packet with a VP8 payload descriptor (S bit) and a key (P=0) or delta frame header;
// as audio it is just an opaque payload.
std::vector<uint8_t> packet(uint32_t ssrc, uint16_t seq, uint32_t ts, bool keyframe) {
  std::vector<uint8_t> b = {0x80,
                            96,
                            uint8_t(seq >> 8),
                            uint8_t(seq),
                            uint8_t(ts >> 24),
                            uint8_t(ts >> 16),
                            uint8_t(ts >> 8),
                            uint8_t(ts),
                            uint8_t(ssrc >> 24),
                            uint8_t(ssrc >> 16),
                            uint8_t(ssrc >> 8),
                            uint8_t(ssrc)};
  b.insert(b.end(), {0x10, uint8_t(keyframe ? 0x00 : 0x01), 0xAA, 0xBB, 0xCC});
  return b;
}

struct Feed {
  UpTrack& up;
  uint32_t ssrc;
  uint32_t ticks;
  uint16_t seq = 1000;
  uint32_t ts = 5000;
  UpTrack::Clock::time_point t = UpTrack::Clock::now();
  void operator()(bool keyframe = false) {
    auto p = packet(ssrc, seq++, ts, keyframe);
    ts += ticks;
    t += 20ms;
    up.on_packet(*rtc::RtpPacketView::parse(p), 0, t);
  }
};

void expect_contiguous(const std::vector<Sent>& sent) {
  for (size_t i = 1; i < sent.size(); ++i) {
    EXPECT_EQ(static_cast<uint16_t>(sent[i].seq - sent[i - 1].seq), 1) << "packet " << i;
    EXPECT_GT(static_cast<int32_t>(sent[i].ts - sent[i - 1].ts), 0) << "packet " << i;
  }
}

TEST(MuteGate, AudioStopsForEverySubscriberAndResumesContiguously) {
  Sink a, b;
  UpTrack up(false, 1, [](uint32_t) {});
  DownTrack da(a, 1, 111, false), db(b, 2, 111, false);
  up.add(&da);
  up.add(&db);
  Feed feed{up, 77, 960};
  for (int i = 0; i < 5; ++i) feed();
  ASSERT_EQ(a.sent.size(), 5u);
  ASSERT_EQ(b.sent.size(), 5u);

  up.set_server_muted(true, feed.t);
  EXPECT_TRUE(up.server_muted());
  for (int i = 0; i < 50; ++i) feed();
  EXPECT_EQ(a.sent.size(), 5u);
  EXPECT_EQ(b.sent.size(), 5u);
  EXPECT_EQ(up.muted_drops(), 50u);
  EXPECT_EQ(up.packets(), 55u);  // still counted for the publisher's receiver reports

  up.set_server_muted(false, feed.t);
  for (int i = 0; i < 5; ++i) feed();
  ASSERT_EQ(a.sent.size(), 10u);
  ASSERT_EQ(b.sent.size(), 10u);
  expect_contiguous(a.sent);  // the gap is neither loss nor a jump for the receiver
  expect_contiguous(b.sent);
  up.remove(&da);
  up.remove(&db);
}

TEST(MuteGate, ASubscriberJoiningDuringTheMuteGetsNothingUntilItLifts) {
  Sink s;
  UpTrack up(false, 1, [](uint32_t) {});
  Feed feed{up, 5, 960};
  feed();
  up.set_server_muted(true, feed.t);
  DownTrack late(s, 9, 111, false);
  up.add(&late);
  for (int i = 0; i < 10; ++i) feed();
  EXPECT_TRUE(s.sent.empty());
  up.set_server_muted(false, feed.t);
  feed();
  EXPECT_EQ(s.sent.size(), 1u);
  up.remove(&late);
}

TEST(MuteGate, VideoServesNoRetransmissionOrKeyframeWhileMutedAndRestartsAtAKeyframe) {
  Sink s;
  std::vector<uint32_t> keyframe_requests;
  UpTrack up(true, 1, [&](uint32_t ssrc) { keyframe_requests.push_back(ssrc); });
  DownTrack down(s, 3, 96, true);
  up.add(&down);
  Feed feed{up, 42, 3000};
  feed(true);
  for (int i = 0; i < 9; ++i) feed();
  ASSERT_EQ(s.sent.size(), 10u);
  uint16_t sent_before = s.sent[5].seq;
  ASSERT_TRUE(down.retransmit(sent_before, up));  // served before the mute
  ASSERT_EQ(s.sent.size(), 11u);
  s.sent.pop_back();

  up.set_server_muted(true, feed.t);
  EXPECT_FALSE(down.retransmit(sent_before, up));  // nothing from the cache while muted
  EXPECT_FALSE(up.cached(0, 1005).has_value());
  keyframe_requests.clear();
  up.request_keyframe(down, feed.t + 1s, true);  // a subscriber's PLI is not passed on
  EXPECT_TRUE(keyframe_requests.empty());
  feed(true);  // even a keyframe stays behind the gate
  for (int i = 0; i < 20; ++i) feed();
  EXPECT_EQ(s.sent.size(), 10u);

  up.set_server_muted(false, feed.t + 1s);
  EXPECT_EQ(keyframe_requests, std::vector<uint32_t>{42u});  // asked at once for the restart
  feed();  // a delta frame cannot restart a decoder
  EXPECT_EQ(s.sent.size(), 10u);
  feed(true);
  feed();
  ASSERT_EQ(s.sent.size(), 12u);
  expect_contiguous(s.sent);
  up.remove(&down);
}

TEST(MuteGate, HiddenSubscribersDoNotChangeWhatThePublisherIsAsked) {
  Sink s;
  UpTrack up(true, 3, [](uint32_t) {});
  DownTrack monitor(s, 1, 96, true), visible(s, 2, 96, true);
  monitor.set_hidden(true);
  monitor.set_max_layer(2);
  up.add(&monitor);
  EXPECT_EQ(up.wanted_layers(), 0b001u);  // as if nobody watched
  visible.set_max_layer(1);
  up.add(&visible);
  EXPECT_EQ(up.wanted_layers(), 0b011u);  // what the visible subscriber wants, no more
  up.remove(&monitor);
  up.remove(&visible);
}

}  // namespace
}  // namespace parlor::sfu
