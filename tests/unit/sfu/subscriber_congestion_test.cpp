// Downstream congestion control end to end on the media-plane pieces: a simulcast UpTrack, a
// subscriber's DownTracks stamping the transport-wide sequence number, a bottleneck link, the
// receiver's feedback from our TwccRecorder, the estimator and the allocator capping the layer.
#include "sfu/subscriber_congestion.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <deque>
#include <vector>

#include "rtc/rtp/rtp_packet.hpp"
#include "sfu/down_track.hpp"
#include "sfu/twcc_recorder.hpp"
#include "sfu/up_track.hpp"

namespace parlor::sfu {
namespace {

constexpr uint8_t kTwccExt = 5;
constexpr uint32_t kRtxSsrc = 0xC;
constexpr uint8_t kRtxPayloadType = 97;
int64_t g_now_us = 0;
int64_t fake_now() { return g_now_us; }
// Simulated time on the steady clock's scale, from when the tests started (TwccRecorder counts
// from its construction).
const UpTrack::Clock::time_point g_base = UpTrack::Clock::now();
UpTrack::Clock::time_point at(int64_t us) { return g_base + std::chrono::microseconds(us); }

std::vector<uint8_t> vp8(uint32_t ssrc, uint16_t seq, uint32_t ts, bool keyframe, size_t payload) {
  std::vector<uint8_t> b = {0x90, 96, uint8_t(seq >> 8), uint8_t(seq), uint8_t(ts >> 24), uint8_t(ts >> 16),
                            uint8_t(ts >> 8), uint8_t(ts), uint8_t(ssrc >> 24), uint8_t(ssrc >> 16),
                            uint8_t(ssrc >> 8), uint8_t(ssrc)};
  b.insert(b.end(), {0xBE, 0xDE, 0x00, 0x01, 0x30, '1', 0x00, 0x00});  // a mid the subscriber must not see
  b.insert(b.end(), {0x90, 0x80, 0x05, static_cast<uint8_t>(keyframe ? 0x00 : 0x01)});
  b.resize(b.size() + payload, 0xAB);
  return b;
}

// The subscriber's side of the wire: every packet sent goes through a FIFO bottleneck, then its
// transport-wide number is recorded at its arrival time.
class Bottleneck : public rtc::RtpSink {
 public:
  explicit Bottleneck(int64_t capacity_bps) : capacity_bps_(capacity_bps) {}
  bool send_rtp(std::span<const uint8_t> plain) override {
    std::vector<uint8_t> copy(plain.begin(), plain.end());
    auto p = rtc::RtpPacketView::parse(copy);
    EXPECT_TRUE(p);
    if (!p) return false;
    ++sent;
    if (p->ssrc() == kRtxSsrc) {  // a padding-only probe packet on the RTX stream
      EXPECT_EQ(p->payload().size(), 0u);
      EXPECT_EQ(p->payload_type(), kRtxPayloadType);
      ++padding;
    }
    auto ext = p->extension(kTwccExt);
    EXPECT_TRUE(ext && ext->size() == 2);
    EXPECT_FALSE(p->extension(3));  // the publisher's mid is gone
    if (!ext || ext->size() != 2) return true;
    uint16_t seq = static_cast<uint16_t>((*ext)[0] << 8 | (*ext)[1]);
    if (have_last_ && seq != static_cast<uint16_t>(last_seq_ + 1)) ++gaps;
    have_last_ = true;
    last_seq_ = seq;
    int64_t service = static_cast<int64_t>(plain.size() * 8) * 1'000'000 / capacity_bps_;
    int64_t start = std::max(g_now_us, queue_free_);
    queue_free_ = start + service;
    in_flight_.push_back({seq, queue_free_ + 20'000});
    return true;
  }
  // Arrivals up to now into the recorder; a feedback when due, to `cc`.
  void deliver(SubscriberCongestion& cc) {
    while (!in_flight_.empty() && in_flight_.front().arrival <= g_now_us) {
      recorder_.on_packet(in_flight_.front().seq, 1, at(in_flight_.front().arrival));
      in_flight_.pop_front();
    }
    if (!recorder_.due(at(g_now_us))) return;
    std::array<uint8_t, rtc::rtcp::TwccFeedbackBuilder::kMaxSize> out{};
    while (size_t n = recorder_.build_feedback(out, 1, at(g_now_us))) {
      rtc::rtcp::CompoundIterator it({out.data(), n});
      auto h = it.next();
      ASSERT_TRUE(h);
      EXPECT_TRUE(cc.on_feedback(*h, at(g_now_us)));
    }
  }
  int64_t capacity_bps_;
  uint64_t sent = 0, gaps = 0, padding = 0;

 private:
  struct InFlight {
    uint16_t seq;
    int64_t arrival;
  };
  TwccRecorder recorder_;
  std::deque<InFlight> in_flight_;
  int64_t queue_free_ = 0;
  uint16_t last_seq_ = 0;
  bool have_last_ = false;
};

// A simulcast publisher: three layers at about 150 k, 500 k and 1.5 Mbit/s, 30 frames/s, a
// keyframe on a layer whenever one is asked for; and audio at ~40 kbit/s.
struct Publisher {
  UpTrack video{true, 3, [this](uint32_t ssrc) { key_pending[ssrc - 100] = true; }};
  UpTrack audio{false, 1, [](uint32_t) {}};
  std::array<bool, 3> key_pending{true, true, true};
  std::array<uint16_t, 3> seq{};
  uint16_t audio_seq = 0;
  uint32_t ts = 0;
  static constexpr std::array<int, 3> kPackets{1, 2, 6};
  static constexpr std::array<size_t, 3> kPayload{600, 1030, 1030};

  void frame() {
    ts += 3000;
    for (int l = 0; l < 3; ++l) {
      bool key = key_pending[l];
      key_pending[l] = false;  // (a request made while this frame goes out is for the next one)
      for (int i = 0; i < kPackets[l]; ++i) {
        auto p = vp8(100 + l, seq[l]++, ts, key && i == 0, kPayload[l]);
        video.on_packet(*rtc::RtpPacketView::parse(p), l, at(g_now_us));
      }
    }
  }
  void audio_packet() {
    auto p = vp8(300, audio_seq++, ts, false, 80);  // the payload is not looked at for audio
    audio.on_packet(*rtc::RtpPacketView::parse(p), 0, at(g_now_us));
  }
};

struct Run {
  int max_layer = -1;
  int final_layer = -1;
  std::vector<SubscriberCongestion::PauseChange> changes;
};

Run simulate(Publisher& pub, Bottleneck& link, SubscriberCongestion& cc, DownTrack& video_down,
             DownTrack& audio_down, int64_t duration_us) {
  Run r;
  std::array<SubscriberCongestion::Entry, 2> entries{{{1, &video_down, &pub.video}, {2, &audio_down, &pub.audio}}};
  int64_t end = g_now_us + duration_us;
  for (; g_now_us < end; g_now_us += 1000) {
    if (g_now_us % 33'000 == 0) pub.frame();
    if (g_now_us % 20'000 == 0) pub.audio_packet();
    link.deliver(cc);
    if (g_now_us % 10'000 == 0) cc.pace(at(g_now_us), &video_down);  // the transport's timer
    if (g_now_us % 400'000 == 0) {
      cc.allocate(entries, at(g_now_us), r.changes);  // the room's tick
    }
    r.max_layer = std::max(r.max_layer, video_down.current_layer());
  }
  r.final_layer = video_down.current_layer();
  return r;
}

// A publisher, one subscriber behind a link of `link_bps` with its estimator, and the subscriber's
// video and audio down tracks stamped with the transport-wide sequence number.
struct Call {
  explicit Call(int64_t link_bps, CongestionConfig config = {}) : link(link_bps), cc(config) {
    cc.bwe().set_clock(&fake_now);
    video_down.set_transport_cc(&cc.bwe(), kTwccExt);
    audio_down.set_transport_cc(&cc.bwe(), kTwccExt);
    pub.video.add(&video_down);
    pub.audio.add(&audio_down);
  }
  ~Call() {
    pub.video.remove(&video_down);
    pub.audio.remove(&audio_down);
  }
  Run run(int64_t duration_us) { return simulate(pub, link, cc, video_down, audio_down, duration_us); }

  Publisher pub;
  Bottleneck link;
  SubscriberCongestion cc;
  DownTrack video_down{link, 0xA, 96, true};
  DownTrack audio_down{link, 0xB, 111, false};
};

class SubscriberCongestionTest : public testing::Test {
 protected:
  void SetUp() override { g_now_us = 1'000'000; }
};

TEST_F(SubscriberCongestionTest, CongestedSubscriberGetsALowerLayer) {
  Call call(1'000'000);
  auto& [pub, link, cc, video_down, audio_down] = call;
  auto r = call.run(15'000'000);
  // It moved up to the top layer (nothing constrains before congestion is seen) ...
  EXPECT_EQ(r.max_layer, 2);
  EXPECT_TRUE(cc.bwe().congested());
  // ... and ends capped within the 1 Mbit/s link: the middle layer, never paused.
  EXPECT_LE(video_down.layer_cap(), 1);
  EXPECT_EQ(r.final_layer, 1);
  EXPECT_TRUE(r.changes.empty());
  EXPECT_LT(cc.bwe().estimate_bps(), 1'100'000);
  EXPECT_GT(cc.bwe().estimate_bps(), 650'000);
  // One transport-wide sequence across both tracks: consecutive, nothing skipped.
  EXPECT_GT(link.sent, 1000u);
  EXPECT_EQ(link.gaps, 0u);
  std::printf("[ numbers  ] 1 Mbit/s downlink: estimate %lld bit/s, layer cap %d after 15 s\n",
              static_cast<long long>(cc.bwe().estimate_bps()), video_down.layer_cap());
}

TEST_F(SubscriberCongestionTest, AmpleDownlinkKeepsTheTopLayer) {
  Call call(10'000'000);
  auto& [pub, link, cc, video_down, audio_down] = call;
  auto r = call.run(8'000'000);
  EXPECT_FALSE(cc.bwe().congested());
  EXPECT_EQ(r.final_layer, 2);
  EXPECT_EQ(video_down.layer_cap(), 2);
}

TEST_F(SubscriberCongestionTest, NarrowDownlinkPausesVideoAndSaysSo) {
  Call call(200'000);
  auto& [pub, link, cc, video_down, audio_down] = call;
  auto r = call.run(6'000'000);
  ASSERT_FALSE(r.changes.empty());
  EXPECT_EQ(r.changes.front().key, 1u);
  EXPECT_TRUE(r.changes.front().paused);
  EXPECT_TRUE(video_down.congestion_paused() || r.changes.size() > 1);
  std::printf("[ numbers  ] 200 kbit/s downlink: first pause after %zu changes, estimate %lld bit/s\n",
              r.changes.size(), static_cast<long long>(cc.bwe().estimate_bps()));
}

TEST_F(SubscriberCongestionTest, DisabledNeverConstrains) {
  CongestionConfig config;
  config.enabled = false;
  Call call(300'000, config);
  auto& [pub, link, cc, video_down, audio_down] = call;
  auto r = call.run(5'000'000);
  EXPECT_TRUE(r.changes.empty());
  EXPECT_EQ(video_down.layer_cap(), 2);
  EXPECT_EQ(r.final_layer, 2);
}

TEST(SubscriberCongestion, MalformedFeedbackIsRefused) {
  SubscriberCongestion cc(CongestionConfig{});
  // A transport-cc header claiming 100 statuses with no chunks behind it.
  std::array<uint8_t, 20> bad = {0x8F, 205, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 2, 0x00, 0x00, 0x00, 100, 0, 0, 0, 0};
  rtc::rtcp::CompoundIterator it(bad);
  auto h = it.next();
  ASSERT_TRUE(h);
  EXPECT_FALSE(cc.on_feedback(*h, at(0)));
  EXPECT_EQ(cc.bwe().feedbacks(), 0u);
}

TEST(DownTrackTransportCc, WithoutItNoExtensionIsWritten) {
  struct Sink : rtc::RtpSink {
    bool send_rtp(std::span<const uint8_t> plain) override {
      x = (plain[0] & 0x10) != 0;
      size = plain.size();
      return true;
    }
    bool x = true;
    size_t size = 0;
  } sink;
  DownTrack down(sink, 1, 96, true);
  auto k = vp8(7, 1, 0, true, 100);
  down.forward(*rtc::RtpPacketView::parse(k), true, false);
  EXPECT_FALSE(sink.x);
  EXPECT_EQ(sink.size, k.size() - 8);  // the publisher's extension block is gone
  SendSideBwe bwe;
  down.set_transport_cc(&bwe, 0);  // id 0: not negotiated
  auto d = vp8(7, 2, 3000, false, 100);
  down.forward(*rtc::RtpPacketView::parse(d), false, false);
  EXPECT_FALSE(sink.x);
  EXPECT_EQ(bwe.next_sequence(), 0);
  down.set_transport_cc(&bwe, 14);
  auto d2 = vp8(7, 3, 6000, false, 100);
  down.forward(*rtc::RtpPacketView::parse(d2), false, false);
  EXPECT_TRUE(sink.x);
  EXPECT_EQ(sink.size, k.size());  // one 8-byte block instead of the publisher's
  EXPECT_EQ(bwe.next_sequence(), 1);
}

// The downlink widens after congestion: with an RTX stream to pad on, a probe shows it and the
// top layer comes back at once; without probes the estimate has to climb to it with the media.
int64_t recovery_us(bool probing, Call& call) {
  auto& [pub, link, cc, video_down, audio_down] = call;
  if (probing) video_down.set_rtx(kRtxSsrc, kRtxPayloadType);
  auto r = call.run(15'000'000);
  EXPECT_EQ(r.final_layer, 1);
  link.capacity_bps_ = 10'000'000;
  int64_t lifted = g_now_us;
  for (int i = 0; i < 300 && video_down.current_layer() < 2; ++i) call.run(100'000);
  return video_down.current_layer() == 2 ? g_now_us - lifted : -1;
}

TEST_F(SubscriberCongestionTest, AProbeBringsTheTopLayerBackWhenTheDownlinkWidens) {
  Call call(1'000'000);
  int64_t with_probe = recovery_us(true, call);
  const auto& counters = call.cc.probe_counters();
  std::printf("[ numbers  ] 1 -> 10 Mbit/s downlink: top layer back %.1f s after the cap lifted with probes "
              "(%llu started, %llu succeeded, %llu padding packets)\n",
              static_cast<double>(with_probe) / 1e6, static_cast<unsigned long long>(counters.started),
              static_cast<unsigned long long>(counters.succeeded), static_cast<unsigned long long>(counters.padding_packets));
  ASSERT_GT(with_probe, 0);
  EXPECT_GE(counters.succeeded, 1u);
  EXPECT_GT(call.link.padding, 0u);
  EXPECT_EQ(call.link.gaps, 0u);  // padding takes its transport-wide numbers in sequence
  // The next probe comes when the wait after the last failed one (2 s doubled per failure while
  // capped) is over; a success raises at once (no raise_after damping).
  EXPECT_LT(with_probe, 10'000'000);

  SetUp();
  CongestionConfig no_probes;
  no_probes.probe.enabled = false;
  Call slow(1'000'000, no_probes);
  int64_t without = recovery_us(false, slow);
  std::printf("[ numbers  ] ... without probes: %.1f s (-1: not within 30 s)\n", static_cast<double>(without) / 1e6);
  EXPECT_EQ(slow.cc.probe_counters().started, 0u);
  EXPECT_TRUE(without < 0 || without > with_probe);
}

TEST_F(SubscriberCongestionTest, ProbesIntoAFullDownlinkBackOffAndDoNotRaiseTheLayer) {
  Call call(1'000'000);
  auto& [pub, link, cc, video_down, audio_down] = call;
  video_down.set_rtx(kRtxSsrc, kRtxPayloadType);
  auto r = call.run(40'000'000);
  const auto& counters = cc.probe_counters();
  std::printf("[ numbers  ] 1 Mbit/s for 40 s: %llu probes, %llu succeeded; final layer %d\n",
              static_cast<unsigned long long>(counters.started), static_cast<unsigned long long>(counters.succeeded),
              r.final_layer);
  // The probes toward the top layer fail (the path is full); one may have found the middle layer
  // early. Failures double the wait (2, 4, 8 s ...): a handful in 40 s, not one every tick. A
  // failed probe's own queue does not cost the layer the path carries.
  EXPECT_GE(counters.failed, 1u);
  EXPECT_LE(counters.started, 6u);
  EXPECT_EQ(r.final_layer, 1);
  EXPECT_EQ(video_down.layer_cap(), 1);
}

TEST(DownTrackPadding, PaddingOnlyPacketsGoOnTheRtxStreamOnceMediaStarted) {
  struct Sink : rtc::RtpSink {
    bool send_rtp(std::span<const uint8_t> plain) override {
      last.assign(plain.begin(), plain.end());
      return true;
    }
    std::vector<uint8_t> last;
  } sink;
  DownTrack down(sink, 0xA, 96, true);
  SendSideBwe bwe;
  down.set_transport_cc(&bwe, 3);
  EXPECT_FALSE(down.can_pad());  // no RTX stream
  down.set_rtx(kRtxSsrc, kRtxPayloadType);
  EXPECT_FALSE(down.can_pad());  // nothing forwarded yet
  EXPECT_EQ(down.send_padding(100), 0u);
  auto k = vp8(7, 1, 90000, true, 100);
  down.forward(*rtc::RtpPacketView::parse(k), true, false);
  ASSERT_TRUE(down.can_pad());
  size_t n = down.send_padding(DownTrack::kMaxPadding);
  EXPECT_EQ(n, 12u + 8u + 255u);
  auto p = rtc::RtpPacketView::parse(sink.last);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ssrc(), kRtxSsrc);
  EXPECT_EQ(p->payload_type(), kRtxPayloadType);
  EXPECT_EQ(p->timestamp(), 90000u);  // the last media timestamp
  EXPECT_EQ(p->payload().size(), 0u);
  EXPECT_EQ(sink.last.back(), 255);
  auto ext = p->extension(3);
  ASSERT_TRUE(ext && ext->size() == 2);
  EXPECT_EQ((*ext)[1], 1);  // transport-wide number 1 (the keyframe had 0)
  EXPECT_EQ(bwe.next_sequence(), 2);
  EXPECT_EQ(down.padding_packets(), 1u);
  EXPECT_EQ(down.packets(), 1u);  // padding is not media: sender reports do not count it
  // Paused for want of bandwidth: its RTX stream still carries probes (how it can come back).
  down.set_congestion_paused(true);
  EXPECT_EQ(down.send_padding(100), 12u + 8u + 100u);
  down.set_transport_cc(&bwe, 0);  // no transport-cc: a probe would be invisible
  EXPECT_EQ(down.send_padding(100), 0u);
}

// Two publishers' video on one short downlink: the active speaker's is served first.
TEST_F(SubscriberCongestionTest, TheSpeakersVideoIsServedFirst) {
  Bottleneck link(900'000);
  SubscriberCongestion cc{CongestionConfig{}};
  cc.bwe().set_clock(&fake_now);
  Publisher a, b;
  b.seq = {1000, 1000, 1000};
  DownTrack a_down{link, 0xA1, 96, true}, b_down{link, 0xB1, 96, true};
  for (auto* d : {&a_down, &b_down}) d->set_transport_cc(&cc.bwe(), kTwccExt);
  a.video.add(&a_down);
  b.video.add(&b_down);
  std::vector<SubscriberCongestion::PauseChange> changes;
  int a_better = 0, b_better = 0;
  for (int64_t end = g_now_us + 20'000'000; g_now_us < end; g_now_us += 1000) {
    if (g_now_us % 33'000 == 0) {
      a.frame();
      b.frame();
    }
    link.deliver(cc);
    if (g_now_us % 400'000 == 0) {
      // B speaks (its audio is not on this link; only the flag matters here).
      std::array<SubscriberCongestion::Entry, 2> entries{{{1, &a_down, &a.video, false}, {2, &b_down, &b.video, true}}};
      cc.allocate(entries, at(g_now_us), changes);
      if (cc.bwe().congested() && g_now_us > end - 8'000'000) {
        a_better += a_down.layer_cap() > b_down.layer_cap();
        b_better += b_down.layer_cap() > a_down.layer_cap();
      }
    }
  }
  a.video.remove(&a_down);
  b.video.remove(&b_down);
  std::printf("[ numbers  ] two videos into 900 kbit/s, B speaking: caps A %d, B %d; B ahead in %d of the last 20 ticks, "
              "A ahead in %d\n", a_down.layer_cap(), b_down.layer_cap(), b_better, a_better);
  ASSERT_TRUE(cc.bwe().congested());
  EXPECT_EQ(a_better, 0);
  EXPECT_GT(b_better, 0);
}

}  // namespace
}  // namespace parlor::sfu
