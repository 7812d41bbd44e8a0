// The forwarding primitives: NACK cache, VP8 keyframe detection, per-subscriber numbering
// across layer switches, retransmission from the publisher's cache, and simulcast layer choice.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <tuple>
#include <vector>

#include "rtc/rtp/rtp_packet.hpp"
#include "sfu/down_track.hpp"
#include "sfu/packet_cache.hpp"
#include "sfu/up_track.hpp"

namespace parlor::sfu {
namespace {

using namespace std::chrono_literals;

struct Sent {
  uint32_t ssrc;
  uint8_t pt;
  uint16_t seq;
  uint32_t ts;
  bool extension;
  std::vector<uint8_t> payload;
};

class CapturingSink : public rtc::RtpSink {
 public:
  bool send_rtp(std::span<const uint8_t> plain) override {
    std::vector<uint8_t> copy(plain.begin(), plain.end());
    auto p = rtc::RtpPacketView::parse(copy);
    EXPECT_TRUE(p.has_value());
    auto payload = p->payload();
    sent.push_back({p->ssrc(), p->payload_type(), p->sequence(), p->timestamp(), (copy[0] & 0x10) != 0,
                    {payload.begin(), payload.end()}});
    return true;
  }
  std::vector<Sent> sent;
};

// A VP8 packet: RTP header with a one-byte-extension block (mid = "1"), VP8 descriptor with
// the S bit, and a payload header whose P bit says key (0) or delta (1) frame.
std::vector<uint8_t> vp8_packet(uint32_t ssrc, uint16_t seq, uint32_t ts, bool keyframe, bool start = true) {
  std::vector<uint8_t> b = {0x90, 96, uint8_t(seq >> 8), uint8_t(seq), uint8_t(ts >> 24), uint8_t(ts >> 16),
                            uint8_t(ts >> 8), uint8_t(ts), uint8_t(ssrc >> 24), uint8_t(ssrc >> 16),
                            uint8_t(ssrc >> 8), uint8_t(ssrc)};
  b.insert(b.end(), {0xBE, 0xDE, 0x00, 0x01, 0x30, '1', 0x00, 0x00});  // id 3, len 1: "1"
  b.push_back(start ? 0x90 : 0x80);  // X=1, S
  b.push_back(0x80);                 // I: picture id
  b.push_back(0x05);                 // 7-bit picture id
  b.push_back(keyframe ? 0x00 : 0x01);
  b.insert(b.end(), {0xAA, 0xBB, 0xCC});
  return b;
}

rtc::RtpPacketView view(std::vector<uint8_t>& b) { return *rtc::RtpPacketView::parse(b); }

TEST(PacketCache, StoresAndForgetsByRing) {
  PacketCache cache(4);
  std::vector<uint8_t> a = {1, 2, 3};
  cache.store(10, a);
  ASSERT_TRUE(cache.get(10));
  EXPECT_EQ(cache.get(10)->size(), 3u);
  EXPECT_FALSE(cache.get(11));
  cache.store(14, a);  // same slot as 10 in a ring of 4
  EXPECT_FALSE(cache.get(10));
  EXPECT_TRUE(cache.get(14));
  std::vector<uint8_t> big(2000);
  cache.store(15, big);
  EXPECT_FALSE(cache.get(15));
}

TEST(Vp8, KeyframeOnlyAtTheStartOfPartitionZero) {
  auto key = vp8_packet(1, 1, 0, true);
  auto delta = vp8_packet(1, 2, 0, false);
  auto middle = vp8_packet(1, 3, 0, true, false);
  EXPECT_TRUE(vp8_starts_keyframe(view(key).payload()));
  EXPECT_FALSE(vp8_starts_keyframe(view(delta).payload()));
  EXPECT_FALSE(vp8_starts_keyframe(view(middle).payload()));
  std::vector<uint8_t> truncated = {0x90, 0x80};
  EXPECT_FALSE(vp8_starts_keyframe(truncated));
  EXPECT_FALSE(vp8_starts_keyframe({}));
}

TEST(DownTrack, WaitsForKeyframeThenRewritesAndStripsExtensions) {
  CapturingSink sink;
  DownTrack down(sink, 0xABCD, 100, true);
  auto d1 = vp8_packet(7, 500, 9000, false);
  down.forward(view(d1), false, false);
  EXPECT_TRUE(sink.sent.empty());  // a decoder cannot start on a delta frame
  auto k = vp8_packet(7, 501, 9000, true);
  down.forward(view(k), true, false);
  auto d2 = vp8_packet(7, 502, 12000, false);
  down.forward(view(d2), false, false);
  ASSERT_EQ(sink.sent.size(), 2u);
  EXPECT_EQ(sink.sent[0].ssrc, 0xABCDu);
  EXPECT_EQ(sink.sent[0].pt, 100);
  EXPECT_FALSE(sink.sent[0].extension);
  EXPECT_EQ(sink.sent[0].payload.size(), 7u);
  EXPECT_EQ(static_cast<uint16_t>(sink.sent[1].seq - sink.sent[0].seq), 1);
  EXPECT_EQ(sink.sent[1].ts - sink.sent[0].ts, 3000u);
}

TEST(DownTrack, SequenceContinuesAcrossASourceSwitch) {
  CapturingSink sink;
  DownTrack down(sink, 1, 96, true);
  auto k = vp8_packet(7, 65535, 100, true);
  down.forward(view(k), true, false, 0);
  auto d = vp8_packet(7, 0, 3100, false);  // wraps
  down.forward(view(d), false, false, 0);
  auto other = vp8_packet(8, 4000, 777777, false);
  down.forward(view(other), false, true, 1);  // switch announced, but not a keyframe yet
  auto other_key = vp8_packet(8, 4001, 780777, true);
  down.forward(view(other_key), true, true, 1);
  ASSERT_EQ(sink.sent.size(), 3u);
  EXPECT_EQ(static_cast<uint16_t>(sink.sent[1].seq - sink.sent[0].seq), 1);
  EXPECT_EQ(static_cast<uint16_t>(sink.sent[2].seq - sink.sent[1].seq), 1);
  EXPECT_GT(static_cast<int32_t>(sink.sent[2].ts - sink.sent[1].ts), 0);
}

// A layer's timestamps and the publisher's NTP clock, as its sender reports state them: the
// RTP timestamp `rtp` was sampled at `ntp_seconds` (32.32 fixed point).
constexpr uint64_t ntp(uint64_t seconds, uint64_t ms = 0) { return (seconds << 32) + (ms << 32) / 1000; }

TEST(DownTrack, SenderReportCarriesThePublishersClockInTheSubscribersNumbering) {
  CapturingSink sink;
  UpTrack up(true, 1, [](uint32_t) {});
  DownTrack down(sink, 0xABCD, 96, true);
  up.add(&down);
  auto t = UpTrack::Clock::now();
  EXPECT_FALSE(down.sender_report(t));  // nothing sent yet
  auto k = vp8_packet(7, 100, 50000, true);
  up.on_packet(view(k), 0, t);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_FALSE(down.sender_report(t));  // the publisher has not reported its clock yet
  up.on_sender_report(7, ntp(1000), 50000, t);
  auto sr = down.sender_report(t + 1s);
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->ssrc, 0xABCDu);
  EXPECT_EQ(sr->ntp_time, ntp(1001));
  EXPECT_EQ(sr->rtp_time, sink.sent[0].ts + 90000u);  // one second later on the 90 kHz clock
  EXPECT_EQ(sr->packet_count, 1u);
  EXPECT_EQ(sr->octet_count, 7u);  // payload only: descriptor and VP8 bytes
  up.remove(&down);
  EXPECT_FALSE(down.sender_report(t + 1s));  // no source, no clock
}

TEST(DownTrack, LayerSwitchKeepsCaptureTimeFromTheSenderReports) {
  CapturingSink sink;
  UpTrack up(true, 2, [](uint32_t) {});
  auto t = UpTrack::Clock::now();
  // Two layers with unrelated timestamp bases (seen once each), and reports naming one instant.
  auto seen0 = vp8_packet(7, 1, 10000, false);
  auto seen1 = vp8_packet(8, 50, 900000, false);
  up.on_packet(view(seen0), 0, t);
  up.on_packet(view(seen1), 1, t);
  up.on_sender_report(7, ntp(500), 10000, t);
  up.on_sender_report(8, ntp(500), 900000, t);
  DownTrack down(sink, 1, 96, true);
  up.add(&down);
  auto k = vp8_packet(7, 2, 10000, true);
  down.forward(view(k), true, false, 0);
  // Layer 1's keyframe was captured 100 ms after that instant: 9000 ticks after its base. On
  // the old layer's numbering the same instant is 9000 ticks after the first packet sent.
  auto key1 = vp8_packet(8, 51, 909000, true);
  down.forward(view(key1), true, true, 1);
  ASSERT_EQ(sink.sent.size(), 2u);
  EXPECT_EQ(sink.sent[1].ts - sink.sent[0].ts, 9000u);
  // Without reports for the new layer the fixed frame step is used instead.
  UpTrack bare(true, 2, [](uint32_t) {});
  DownTrack plain(sink, 2, 96, true);
  bare.add(&plain);
  plain.forward(view(k), true, false, 0);
  plain.forward(view(key1), true, true, 1);
  ASSERT_EQ(sink.sent.size(), 4u);
  EXPECT_EQ(sink.sent[3].ts - sink.sent[2].ts, 3000u);
  bare.remove(&plain);
  up.remove(&down);
}

TEST(DownTrack, RetransmitsFromThePublishersCacheUnderTheSameNumbers) {
  CapturingSink sink;
  std::vector<uint32_t> keyframe_requests;
  UpTrack up(true, 1, [&](uint32_t ssrc) { keyframe_requests.push_back(ssrc); });
  DownTrack down(sink, 55, 96, true);
  up.add(&down);
  auto now = UpTrack::Clock::now();
  for (uint16_t i = 0; i < 10; ++i) {
    auto p = vp8_packet(9, 1000 + i, 90000 + i * 3000, i == 0);
    up.on_packet(view(p), 0, now + i * 10ms);
  }
  ASSERT_EQ(sink.sent.size(), 10u);
  uint16_t lost = sink.sent[4].seq;
  ASSERT_TRUE(down.retransmit(lost, up));
  ASSERT_EQ(sink.sent.size(), 11u);
  EXPECT_EQ(sink.sent[10].seq, lost);
  EXPECT_EQ(sink.sent[10].ts, sink.sent[4].ts);
  EXPECT_EQ(sink.sent[10].payload, sink.sent[4].payload);
  EXPECT_FALSE(down.retransmit(static_cast<uint16_t>(sink.sent[9].seq + 5), up));  // never sent
  EXPECT_FALSE(down.retransmit(static_cast<uint16_t>(sink.sent[0].seq - 1), up));   // before the mapping
  EXPECT_EQ(down.retransmitted(), 1u);
  up.remove(&down);
}

TEST(DownTrack, RetransmitsOnItsRtxStreamWithTheOriginalSequenceFirst) {
  CapturingSink sink;
  UpTrack up(true, 1, [](uint32_t) {});
  DownTrack down(sink, 55, 96, true);
  down.set_rtx(77, 97);
  up.add(&down);
  auto now = UpTrack::Clock::now();
  for (uint16_t i = 0; i < 6; ++i) {
    auto p = vp8_packet(9, 500 + i, 1000 + i * 3000, i == 0);
    up.on_packet(view(p), 0, now + i * 10ms);
  }
  ASSERT_EQ(sink.sent.size(), 6u);
  for (int n : {2, 4}) ASSERT_TRUE(down.retransmit(sink.sent[n].seq, up));
  ASSERT_EQ(sink.sent.size(), 8u);
  for (int i : {6, 7}) {
    const auto& rtx = sink.sent[i];
    const auto& original = sink.sent[i == 6 ? 2 : 4];
    EXPECT_EQ(rtx.ssrc, 77u);
    EXPECT_EQ(rtx.pt, 97);
    EXPECT_EQ(rtx.ts, original.ts);
    ASSERT_EQ(rtx.payload.size(), original.payload.size() + 2);
    EXPECT_EQ((rtx.payload[0] << 8) | rtx.payload[1], original.seq);  // OSN
    EXPECT_TRUE(std::equal(original.payload.begin(), original.payload.end(), rtx.payload.begin() + 2));
  }
  EXPECT_EQ(static_cast<uint16_t>(sink.sent[7].seq - sink.sent[6].seq), 1);  // RTX numbering is its own
  // The sender report counts only the media stream.
  up.on_sender_report(9, uint64_t{1} << 32, 1000, now);
  auto sr = down.sender_report(now + 60ms);
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->packet_count, 6u);
  up.remove(&down);
}

// An Opus RED packet (PT 63): one redundant block of 2 bytes, then the 3-byte primary.
std::vector<uint8_t> red_packet(uint32_t ssrc, uint16_t seq, uint32_t ts) {
  std::vector<uint8_t> b = {0x80, 63, uint8_t(seq >> 8), uint8_t(seq), uint8_t(ts >> 24), uint8_t(ts >> 16),
                            uint8_t(ts >> 8), uint8_t(ts), uint8_t(ssrc >> 24), uint8_t(ssrc >> 16),
                            uint8_t(ssrc >> 8), uint8_t(ssrc)};
  b.insert(b.end(), {0x80 | 111, 0x0F, 0x00, 0x02, 111, 'o', 'l', 'n', 'e', 'w'});
  return b;
}

TEST(DownTrack, OpusRedGoesAsIsOrAsItsPrimary) {
  CapturingSink with_red, without_red;
  UpTrack up(false, 1, [](uint32_t) {});
  up.set_red_payload_type(63);
  DownTrack takes_red(with_red, 1, 109, false);
  takes_red.set_red(100);
  DownTrack plain(without_red, 2, 109, false);
  up.add(&takes_red);
  up.add(&plain);
  auto now = UpTrack::Clock::now();
  auto p = red_packet(5, 10, 960);
  up.on_packet(view(p), 0, now);
  auto broken = red_packet(5, 11, 1920);
  broken[12 + 3] = 0x40;  // the redundant block claims 64 bytes: dropped, not forwarded garbled
  up.on_packet(view(broken), 0, now);
  ASSERT_EQ(with_red.sent.size(), 1u);
  EXPECT_EQ(with_red.sent[0].pt, 100);
  EXPECT_EQ(with_red.sent[0].payload, (std::vector<uint8_t>{0x80 | 109, 0x0F, 0x00, 0x02, 109, 'o', 'l', 'n', 'e', 'w'}));
  ASSERT_EQ(without_red.sent.size(), 1u);
  EXPECT_EQ(without_red.sent[0].pt, 109);
  EXPECT_EQ(without_red.sent[0].payload, (std::vector<uint8_t>{'n', 'e', 'w'}));
  // Plain Opus from the same publisher: as Opus to the one, made into RED for the other.
  std::vector<uint8_t> opus = {0x80, 111, 0, 12, 0, 0, 0x0B, 0x40, 0, 0, 0, 5, 'x'};
  up.on_packet(view(opus), 0, now);
  EXPECT_EQ(with_red.sent.back().pt, 100);
  EXPECT_EQ(with_red.sent.back().payload, (std::vector<uint8_t>{109, 'x'}));
  EXPECT_EQ(without_red.sent.back().pt, 109);
  up.remove(&takes_red);
  up.remove(&plain);
}

// A publisher of plain Opus, a subscriber that takes RED: each packet carries the two before it.
TEST(DownTrack, RedIsMadeFromPlainOpusWithTheTwoPacketsBefore) {
  CapturingSink sink;
  UpTrack up(false, 1, [](uint32_t) {});
  DownTrack down(sink, 1, 109, false);
  down.set_red(100);
  up.add(&down);
  auto now = UpTrack::Clock::now();
  auto opus = [](uint16_t seq, uint32_t ts, std::vector<uint8_t> payload) {
    std::vector<uint8_t> b = {0x80, 111, uint8_t(seq >> 8), uint8_t(seq), uint8_t(ts >> 24), uint8_t(ts >> 16),
                              uint8_t(ts >> 8), uint8_t(ts), 0, 0, 0, 5};
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
  };
  for (auto [seq, ts, text] : std::vector<std::tuple<uint16_t, uint32_t, std::string>>{
           {65534, 1000, "aa"}, {65535, 1960, "bbb"}, {0, 2920, "c"}, {1, 3880, "dd"}, {3, 5800, "f"}}) {
    auto p = opus(seq, ts, {text.begin(), text.end()});
    up.on_packet(view(p), 0, now);
  }
  ASSERT_EQ(sink.sent.size(), 5u);
  for (const auto& s : sink.sent) EXPECT_EQ(s.pt, 100);
  // The first has nothing before it; the second one block; from the third on, two.
  EXPECT_EQ(sink.sent[0].payload, (std::vector<uint8_t>{109, 'a', 'a'}));
  EXPECT_EQ(sink.sent[1].payload, (std::vector<uint8_t>{0x80 | 109, 0x0F, 0x00, 2, 109, 'a', 'a', 'b', 'b', 'b'}));
  // Offsets 1920 (0x780: 0x1E, 0x00 | len) and 960 (0x3C0: 0x0F, 0x00 | len).
  EXPECT_EQ(sink.sent[2].payload, (std::vector<uint8_t>{0x80 | 109, 0x1E, 0x00, 2, 0x80 | 109, 0x0F, 0x00, 3, 109, 'a',
                                                        'a', 'b', 'b', 'b', 'c'}));
  auto red = rtc::parse_red(sink.sent[3].payload);
  ASSERT_TRUE(red);
  EXPECT_EQ(red->blocks, 3);
  // Sequence 2 was lost upstream: packet 3 carries only 1 (2 back), not 0 (3 back).
  EXPECT_EQ(sink.sent[4].payload, (std::vector<uint8_t>{0x80 | 109, 0x1E, 0x00, 2, 109, 'd', 'd', 'f'}));
  up.remove(&down);
}

TEST(UpTrack, RepairedPacketsFillGapsAndProbesAreDropped) {
  CapturingSink sink;
  UpTrack up(true, 1, [](uint32_t) {});
  DownTrack down(sink, 55, 96, true);
  up.add(&down);
  auto now = UpTrack::Clock::now();
  for (uint16_t seq : {100, 101, 103}) {
    auto p = vp8_packet(9, seq, 1000, seq == 100);
    up.on_packet(view(p), 0, now);
  }
  ASSERT_EQ(sink.sent.size(), 3u);
  auto repaired = vp8_packet(9, 102, 1000, false);
  up.on_repaired_packet(view(repaired), 0, now + 5ms);  // the gap: forwarded
  ASSERT_EQ(sink.sent.size(), 4u);
  EXPECT_EQ(static_cast<uint16_t>(sink.sent[3].seq - sink.sent[0].seq), 2);
  auto probe = vp8_packet(9, 101, 1000, false);
  up.on_repaired_packet(view(probe), 0, now + 6ms);  // already here: a probe, not forwarded
  auto stranger = vp8_packet(10, 104, 1000, false);
  up.on_repaired_packet(view(stranger), 0, now + 7ms);  // not this layer's SSRC
  EXPECT_EQ(sink.sent.size(), 4u);
  EXPECT_EQ(up.repaired_duplicates(), 1u);
  up.remove(&down);
}

TEST(UpTrack, MovesUpToAStableHigherLayerAtItsKeyframe) {
  CapturingSink sink;
  std::vector<uint32_t> requests;
  UpTrack up(true, 2, [&](uint32_t ssrc) { requests.push_back(ssrc); });
  DownTrack down(sink, 1, 96, true);
  up.add(&down);
  auto t = UpTrack::Clock::now();
  uint16_t seq_low = 0, seq_high = 0;
  uint32_t ts = 0;
  // Only the low layer at first: it is chosen and forwarded from its keyframe on.
  for (int i = 0; i < 5; ++i, t += 33ms, ts += 3000) {
    auto p = vp8_packet(100, seq_low++, ts, i == 0);
    up.on_packet(view(p), 0, t);
  }
  EXPECT_EQ(up.selected_layer(), 0);
  EXPECT_EQ(sink.sent.size(), 5u);
  // The high layer starts; after it has flowed long enough we ask for its keyframe and switch.
  bool asked_high = false;
  for (int i = 0; i < 80; ++i, t += 33ms, ts += 3000) {
    auto low = vp8_packet(100, seq_low++, ts, false);
    up.on_packet(view(low), 0, t);
    // The publisher answers a keyframe request on the high layer with a keyframe there.
    asked_high = std::find(requests.begin(), requests.end(), 200u) != requests.end();
    auto high = vp8_packet(200, seq_high++, ts, asked_high);
    up.on_packet(view(high), 1, t);
    if (up.selected_layer() == 1) break;
  }
  EXPECT_TRUE(asked_high);
  EXPECT_EQ(up.selected_layer(), 1);
  // The high layer stops: we fall back to the low one.
  for (int i = 0; i < 40 && up.selected_layer() != 0; ++i, t += 33ms, ts += 3000) {
    auto low = vp8_packet(100, seq_low++, ts, i % 5 == 4);
    up.on_packet(view(low), 0, t);
  }
  EXPECT_EQ(up.selected_layer(), 0);
  for (size_t i = 1; i < sink.sent.size(); ++i) {
    EXPECT_EQ(static_cast<uint16_t>(sink.sent[i].seq - sink.sent[i - 1].seq), 1) << i;
  }
  up.remove(&down);
}

TEST(UpTrack, EachSubscriberGetsItsOwnLayerAndNewOnesStartLow) {
  CapturingSink small_sink, big_sink, late_sink;
  std::vector<uint32_t> requests;
  UpTrack up(true, 2, [&](uint32_t ssrc) { requests.push_back(ssrc); });
  DownTrack small(small_sink, 1, 96, true), big(big_sink, 2, 96, true), late(late_sink, 3, 96, true);
  small.set_max_layer(0);  // e.g. a thumbnail: UpdateTrackSettings asked for LOW
  up.add(&small);
  up.add(&big);
  auto t = UpTrack::Clock::now();
  uint16_t s0 = 0, s1 = 0;
  uint32_t ts = 0;
  auto step = [&](bool key_low, bool key_high) {
    auto low = vp8_packet(100, s0++, ts, key_low);
    up.on_packet(view(low), 0, t);
    auto high = vp8_packet(200, s1++, ts, key_high);
    up.on_packet(view(high), 1, t);
    t += 33ms;
    ts += 3000;
  };
  step(true, true);
  // Both start on the lowest layer (its keyframe is the small one).
  EXPECT_EQ(small.current_layer(), 0);
  EXPECT_EQ(big.current_layer(), 0);
  // After the high layer has flowed steadily, `big` moves up at a high keyframe; `small` stays.
  for (int i = 0; i < 60; ++i) step(false, i % 10 == 9);
  EXPECT_EQ(small.current_layer(), 0);
  EXPECT_EQ(big.current_layer(), 1);
  EXPECT_TRUE(std::find(requests.begin(), requests.end(), 200u) != requests.end());
  // A late subscriber starts low (fast first picture) while `big` stays high.
  up.add(&late);
  step(true, false);
  EXPECT_EQ(late.current_layer(), 0);
  EXPECT_EQ(big.current_layer(), 1);
  for (auto* d : {&small, &big, &late}) up.remove(d);
  EXPECT_GT(small_sink.sent.size(), 50u);
  EXPECT_GT(big_sink.sent.size(), 50u);
}

TEST(UpTrack, DynacastWantsOnlyWhatSubscribersMayReceive) {
  CapturingSink sink;
  UpTrack up(true, 3, [](uint32_t) {});
  EXPECT_EQ(up.wanted_layers(), 0b001u);  // nobody: the low layer stays on for newcomers
  DownTrack thumb(sink, 1, 96, true), full(sink, 2, 96, true);
  thumb.set_max_layer(0);
  up.add(&thumb);
  EXPECT_EQ(up.wanted_layers(), 0b001u);
  full.set_max_layer(2);
  up.add(&full);
  EXPECT_EQ(up.wanted_layers(), 0b111u);
  full.set_paused(true);  // its tile went off screen
  EXPECT_EQ(up.wanted_layers(), 0b001u);
  full.set_paused(false);
  full.set_max_layer(1);
  EXPECT_EQ(up.wanted_layers(), 0b011u);
  up.remove(&thumb);
  up.remove(&full);
}

TEST(UpTrack, ReceiverReportsCountLossAndEchoTheSenderReport) {
  UpTrack up(false, 1, [](uint32_t) {});
  auto t = UpTrack::Clock::now();
  for (uint16_t s = 65530; s != 4; ++s) {  // across the wrap, one packet (65533) lost
    if (s == 65533) continue;
    auto p = vp8_packet(42, s, 0, false);
    up.on_packet(view(p), 0, t);
  }
  up.on_sender_report(42, 0x1122334455667788ull, 0, t);
  std::array<rtc::rtcp::ReportBlock, 4> blocks{};
  ASSERT_EQ(up.report_blocks(blocks, t + 500ms), 1u);
  EXPECT_EQ(blocks[0].ssrc, 42u);
  EXPECT_EQ(blocks[0].cumulative_lost, 1);
  EXPECT_EQ(blocks[0].fraction_lost, 256 / 10);
  EXPECT_EQ(blocks[0].highest_sequence, 0x10003u);  // one cycle, then sequence 3
  EXPECT_EQ(blocks[0].last_sr, 0x33445566u);
  EXPECT_NEAR(blocks[0].delay_since_last_sr, 65536 / 2, 2);
  // The next interval saw nothing new: no fresh loss.
  ASSERT_EQ(up.report_blocks(blocks, t + 550ms), 1u);
  EXPECT_EQ(blocks[0].fraction_lost, 0);
}

}  // namespace
}  // namespace parlor::sfu

namespace parlor::sfu {
namespace {

TEST(UpTrack, AsksThePublisherForWhatGotLostUpstream) {
  UpTrack up(true, 1, [](uint32_t) {});
  std::vector<std::pair<uint32_t, std::vector<uint16_t>>> nacks;
  up.set_nack_request([&](uint32_t ssrc, std::span<const uint16_t> seqs) {
    nacks.emplace_back(ssrc, std::vector<uint16_t>(seqs.begin(), seqs.end()));
  });
  auto t = UpTrack::Clock::now();
  for (uint16_t s : {10, 11, 14}) {
    auto p = vp8_packet(42, s, 0, false);
    up.on_packet(view(p), 0, t);
  }
  ASSERT_EQ(nacks.size(), 1u);
  EXPECT_EQ(nacks[0].first, 42u);
  std::sort(nacks[0].second.begin(), nacks[0].second.end());
  EXPECT_EQ(nacks[0].second, (std::vector<uint16_t>{12, 13}));
  for (uint16_t s : {12, 13}) {  // the retransmissions arrive
    auto p = vp8_packet(42, s, 0, false);
    up.on_packet(view(p), 0, t + 30ms);
  }
  EXPECT_EQ(up.nacks_requested(), 2u);
  EXPECT_EQ(up.nacks_recovered(), 2u);
  UpTrack audio(false, 1, [](uint32_t) {});
  audio.set_nack_request([&](uint32_t, std::span<const uint16_t>) { FAIL() << "no NACK for audio"; });
  for (uint16_t s : {1, 5}) {
    auto p = vp8_packet(43, s, 0, false);
    audio.on_packet(view(p), 0, t);
  }
}

}  // namespace
}  // namespace parlor::sfu
