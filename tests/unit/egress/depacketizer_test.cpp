// Depacketizers and the frame assembler with hand-made vectors: every branch that decides whether
// a frame is whole, damaged or a keyframe.
#include <gtest/gtest.h>

#include <vector>

#include "common/errors.hpp"
#include "egress/frame_assembler.hpp"
#include "egress/h264_depacketizer.hpp"
#include "egress/opus_depacketizer.hpp"
#include "egress/vp8_depacketizer.hpp"
#include "media_fixture.hpp"

namespace parlor::egress {
namespace {

using Bytes = std::vector<uint8_t>;

// A VP8 keyframe's first bytes (RFC 6386 §9.1): frame tag (key, show), start code, 320x240.
const Bytes kVp8Key = {0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 0xaa, 0xbb};
const Bytes kVp8Delta = {0x31, 0x02, 0x00, 0xcc, 0xdd};

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(Vp8Depacketizer, AssemblesAKeyframeFromTwoPacketsAndReadsItsSize) {
  Vp8Depacketizer d;
  d.begin_frame();
  // X=1, S=1, PID=0; I=1 with a 15-bit picture id 0x1234; L, T, K absent.
  ASSERT_TRUE(d.add(cat({0x90, 0x80, 0x92, 0x34}, Bytes(kVp8Key.begin(), kVp8Key.begin() + 6))));
  ASSERT_TRUE(d.add(cat({0x80, 0x80, 0x92, 0x34}, Bytes(kVp8Key.begin() + 6, kVp8Key.end()))));
  auto frame = d.end_frame();
  EXPECT_EQ(Bytes(frame.begin(), frame.end()), kVp8Key);
  EXPECT_TRUE(d.keyframe());
  EXPECT_EQ(d.width(), 320);
  EXPECT_EQ(d.height(), 240);
}

TEST(Vp8Depacketizer, StripsEveryExtension) {
  Vp8Depacketizer d;
  d.begin_frame();
  // X, S; I (7-bit id), L (TL0PICIDX), T and K (TID/Y/KEYIDX in one byte).
  ASSERT_TRUE(d.add(cat({0x90, 0xF0, 0x05, 0x07, 0x40}, kVp8Delta)));
  auto frame = d.end_frame();
  EXPECT_EQ(Bytes(frame.begin(), frame.end()), kVp8Delta);
  EXPECT_FALSE(d.keyframe());
}

TEST(Vp8Depacketizer, RefusesAFrameWhoseFirstPacketIsNotAPartitionStart) {
  Vp8Depacketizer d;
  d.begin_frame();
  EXPECT_FALSE(d.add(cat({0x00}, kVp8Delta)));  // S=0: the start was lost
  EXPECT_TRUE(d.end_frame().empty());
  d.begin_frame();
  EXPECT_FALSE(d.add(Bytes{0x90, 0x80, 0x92}));  // picture id runs past the payload
  EXPECT_TRUE(d.end_frame().empty());
}

TEST(Vp8Depacketizer, RefusesAKeyframeWithAShortHeader) {
  Vp8Depacketizer d;
  d.begin_frame();
  ASSERT_TRUE(d.add(cat({0x10}, Bytes(kVp8Key.begin(), kVp8Key.begin() + 7))));
  EXPECT_TRUE(d.end_frame().empty());
}

const Bytes kSps = {0x67, 0x42, 0xc0, 0x1e, 0xda};
const Bytes kPps = {0x68, 0xce, 0x3c, 0x80};
const Bytes kIdr = {0x65, 0x88, 0x84, 0x00, 0x33};
const Bytes kSlice = {0x41, 0x9a, 0x02, 0x03};

Bytes annexb(std::initializer_list<Bytes> nals) {
  Bytes out;
  for (const auto& n : nals) out = cat(cat(out, {0, 0, 0, 1}), n);
  return out;
}

TEST(H264Depacketizer, StapAThenFuAMakesAKeyframeWithExtradata) {
  H264Depacketizer d;
  d.begin_frame();
  Bytes stap = {0x78, 0x00, static_cast<uint8_t>(kSps.size())};
  stap = cat(stap, kSps);
  stap = cat(stap, {0x00, static_cast<uint8_t>(kPps.size())});
  stap = cat(stap, kPps);
  ASSERT_TRUE(d.add(stap));
  // The IDR in two FU-A fragments: indicator NRI|28, header S/E|5.
  ASSERT_TRUE(d.add(Bytes{0x7c, 0x85, 0x88, 0x84}));
  ASSERT_TRUE(d.add(Bytes{0x7c, 0x45, 0x00, 0x33}));
  auto frame = d.end_frame();
  EXPECT_EQ(Bytes(frame.begin(), frame.end()), annexb({kSps, kPps, kIdr}));
  EXPECT_TRUE(d.keyframe());
  EXPECT_EQ(Bytes(d.extradata().begin(), d.extradata().end()), annexb({kSps, kPps}));
}

TEST(H264Depacketizer, PutsKnownParameterSetsBeforeABareIdr) {
  H264Depacketizer d;
  d.begin_frame();
  ASSERT_TRUE(d.add(kSps));
  ASSERT_TRUE(d.add(kPps));
  ASSERT_TRUE(d.add(kIdr));
  ASSERT_TRUE(d.keyframe() || !d.end_frame().empty());
  d.begin_frame();
  ASSERT_TRUE(d.add(kIdr));
  auto frame = d.end_frame();
  EXPECT_TRUE(d.keyframe());
  EXPECT_EQ(Bytes(frame.begin(), frame.end()), annexb({kSps, kPps, kIdr}));
}

TEST(H264Depacketizer, AnIdrWithoutParameterSetsIsNoKeyframe) {
  H264Depacketizer d;
  d.begin_frame();
  ASSERT_TRUE(d.add(kIdr));
  EXPECT_FALSE(d.end_frame().empty());
  EXPECT_FALSE(d.keyframe());
}

TEST(H264Depacketizer, DamagedInputs) {
  H264Depacketizer d;
  d.begin_frame();
  EXPECT_FALSE(d.add(Bytes{0x7c, 0x05, 0x00}));  // FU-A continuation without its start
  d.begin_frame();
  ASSERT_TRUE(d.add(Bytes{0x7c, 0x85, 0x88}));
  EXPECT_TRUE(d.end_frame().empty());  // FU-A never ended
  d.begin_frame();
  EXPECT_FALSE(d.add(Bytes{0x78, 0x00, 0x09, 0x67}));  // STAP-A size past the payload
  d.begin_frame();
  EXPECT_FALSE(d.add(Bytes{0x78, 0x00}));  // STAP-A size cut short
  d.begin_frame();
  EXPECT_FALSE(d.add(Bytes{0x79, 0x00, 0x01, 0x41}));  // STAP-B
  d.begin_frame();
  EXPECT_FALSE(d.add(Bytes{0xe1, 0x00}));  // forbidden bit
  d.begin_frame();
  EXPECT_FALSE(d.add(Bytes{0x7c, 0x87, 0x42}));  // a fragmented SPS
  d.begin_frame();
  EXPECT_FALSE(d.add(Bytes{}));
}

TEST(OpusDepacketizer, PacketDurations) {
  EXPECT_EQ(opus_packet_samples(Bytes{0x78}), 960u);         // config 15 (hybrid 20 ms), 1 frame
  EXPECT_EQ(opus_packet_samples(Bytes{0xfc, 0x01}), 960u);   // CELT 20 ms, code 0
  EXPECT_EQ(opus_packet_samples(Bytes{0xf9, 0x00}), 1920u);  // CELT 20 ms, code 1: 2 frames
  EXPECT_EQ(opus_packet_samples(Bytes{0x0b, 0x03}), 2880u);  // SILK 20 ms, code 3: 3 frames
  EXPECT_EQ(opus_packet_samples(Bytes{0x1b, 0x03}), std::nullopt);  // 3 × 60 ms > 120 ms
  EXPECT_EQ(opus_packet_samples(Bytes{0x03, 0x02}), 960u);   // SILK 10 ms, code 3: 2 frames
  EXPECT_EQ(opus_packet_samples(Bytes{0x03}), std::nullopt);  // code 3 without the count
  EXPECT_EQ(opus_packet_samples(Bytes{0x03, 0x00}), std::nullopt);  // zero frames
  EXPECT_EQ(opus_packet_samples(Bytes{}), std::nullopt);
}

TEST(OpusDepacketizer, UnwrapsRedToItsPrimary) {
  OpusDepacketizer d(111, 63);
  Bytes primary = {0x78, 0x01, 0x02};
  // One redundant block of 2 bytes (PT 111, offset 960), then the primary's header.
  Bytes red = {0x80 | 111, 0x0f, 0x00, 0x02, 111, 0x78, 0x09};
  red = cat(red, primary);
  auto f = d.depacketize(63, red);
  ASSERT_TRUE(f);
  EXPECT_EQ(Bytes(f->data.begin(), f->data.end()), primary);
  EXPECT_EQ(f->samples, 960u);
  auto plain = d.depacketize(111, primary);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->data.size(), 3u);
  EXPECT_FALSE(d.depacketize(96, primary));                    // another payload type
  EXPECT_FALSE(d.depacketize(63, Bytes{0x80 | 111, 0x0f, 0x00, 0x09, 111, 0x78}));  // block past the end
  EXPECT_FALSE(d.depacketize(63, Bytes{111}));                 // RED with an empty primary
}

// The assembler, with frames recorded by a sink.
struct Collect : FrameAssembler::Sink {
  struct Got {
    Bytes data;
    uint64_t ts;
    bool key;
  };
  std::vector<Got> frames;
  void on_frame(const EncodedFrame& f) override { frames.push_back({Bytes(f.data.begin(), f.data.end()), f.timestamp, f.keyframe}); }
};

Bytes rtp(bool marker, uint16_t seq, uint32_t ts, const Bytes& payload, uint8_t pt = 96) {
  return cat(test::rtp_header(marker, pt, seq, ts, 0x1234), payload);
}

TrackFormat vp8_format() {
  TrackFormat f;
  f.codec = rtc::Codec::kVp8;
  f.video = true;
  f.payload_type = 96;
  f.clock_rate = 90000;
  return f;
}

TEST(FrameAssembler, ReordersWithinTheWindowAndDropsDuplicates) {
  Collect sink;
  FrameAssembler a(vp8_format(), sink, 16);
  auto now = FrameAssembler::Clock::now();
  EXPECT_TRUE(a.take_keyframe_request());  // the start needs a keyframe
  a.push(rtp(false, 10, 1000, cat({0x10}, Bytes(kVp8Key.begin(), kVp8Key.begin() + 6))), now);
  a.push(rtp(true, 12, 4000, cat({0x10}, kVp8Delta)), now);  // arrives before 11
  a.push(rtp(true, 11, 1000, cat({0x00}, Bytes(kVp8Key.begin() + 6, kVp8Key.end()))), now);
  a.push(rtp(true, 11, 1000, cat({0x00}, Bytes(kVp8Key.begin() + 6, kVp8Key.end()))), now);  // duplicate
  a.push(rtp(true, 9, 0, cat({0x10}, kVp8Delta)), now);  // late, but not yet: it was before the first
  a.poll(now + std::chrono::milliseconds(10));
  EXPECT_TRUE(sink.frames.empty());  // the start is held a little (until max_wait here)
  a.poll(now + FrameAssembler::kDefaultMaxWait);
  // Seq 9 became the start; it is a delta frame, so it is dropped waiting for the keyframe.
  ASSERT_EQ(sink.frames.size(), 2u);
  EXPECT_EQ(a.stats().damaged_frames, 1u);
  EXPECT_EQ(sink.frames[0].data, kVp8Key);
  EXPECT_TRUE(sink.frames[0].key);
  EXPECT_EQ(sink.frames[1].ts - sink.frames[0].ts, 3000u);
  EXPECT_EQ(a.stats().late_packets, 1u);
}

TEST(FrameAssembler, ALossDropsFramesUntilTheNextKeyframeAndAsksForOne) {
  Collect sink;
  FrameAssembler a(vp8_format(), sink, 16, std::chrono::milliseconds(50));
  auto t0 = FrameAssembler::Clock::now();
  a.take_keyframe_request();
  a.push(rtp(true, 1, 0, cat({0x10}, kVp8Key)), t0);
  a.poll(t0 + std::chrono::milliseconds(50));  // ends the start's hold
  ASSERT_EQ(sink.frames.size(), 1u);
  t0 += std::chrono::milliseconds(50);
  a.push(rtp(false, 2, 3000, cat({0x10}, kVp8Delta)), t0);
  // 3 (the end of that frame) is lost.
  a.push(rtp(true, 4, 6000, cat({0x10}, kVp8Delta)), t0);
  a.poll(t0 + std::chrono::milliseconds(10));
  EXPECT_EQ(sink.frames.size(), 1u);  // still waiting for 3
  a.poll(t0 + std::chrono::milliseconds(60));
  EXPECT_EQ(sink.frames.size(), 1u);  // 3 given up: frames 3000 and 6000 dropped
  EXPECT_TRUE(a.take_keyframe_request());
  EXPECT_EQ(a.stats().lost_packets, 1u);
  EXPECT_EQ(a.stats().damaged_frames, 2u);
  a.push(rtp(true, 5, 9000, cat({0x10}, kVp8Key)), t0);
  ASSERT_EQ(sink.frames.size(), 2u);
  EXPECT_TRUE(sink.frames[1].key);
  // A packet from before the gap arriving now is too late.
  a.push(rtp(true, 3, 3000, cat({0x00}, kVp8Delta)), t0);
  EXPECT_EQ(a.stats().late_packets, 1u);
}

TEST(FrameAssembler, AWindowOverrunCountsTheHoleAsLoss) {
  Collect sink;
  FrameAssembler a(vp8_format(), sink, 8);
  auto now = FrameAssembler::Clock::now();
  a.push(rtp(true, 100, 0, cat({0x10}, kVp8Key)), now);
  for (uint16_t s = 102; s < 112; ++s) a.push(rtp(true, s, (s - 100) * 3000u, cat({0x10}, kVp8Delta)), now);
  EXPECT_EQ(a.stats().lost_packets, 1u);
  EXPECT_EQ(sink.frames.size(), 1u);  // deltas after the hole wait for a keyframe
  EXPECT_GE(a.stats().damaged_frames, 1u);
}

TEST(FrameAssembler, SkipsPaddingAndOtherSsrcs) {
  Collect sink;
  FrameAssembler a(vp8_format(), sink, 16);
  auto now = FrameAssembler::Clock::now();
  a.push(rtp(true, 1, 0, cat({0x10}, kVp8Key)), now);
  Bytes padding = test::rtp_header(false, 96, 2, 0, 0x1234);
  padding[0] |= 0x20;  // P bit, 4 bytes of padding
  padding = cat(padding, {0, 0, 0, 4});
  a.push(padding, now);
  a.push(cat(test::rtp_header(true, 96, 3, 3000, 0x9999), cat({0x10}, kVp8Delta)), now);  // another SSRC
  a.push(rtp(true, 3, 3000, cat({0x10}, kVp8Delta)), now);
  a.flush();
  EXPECT_EQ(sink.frames.size(), 2u);
  EXPECT_EQ(a.stats().lost_packets, 0u);
  EXPECT_EQ(a.stats().invalid_packets, 1u);
}

TEST(FrameAssembler, AMissingMarkerDamagesTheFrame) {
  Collect sink;
  FrameAssembler a(vp8_format(), sink, 16);
  auto now = FrameAssembler::Clock::now();
  a.push(rtp(false, 1, 0, cat({0x10}, kVp8Key)), now);  // no marker, next packet a new picture
  a.push(rtp(true, 2, 3000, cat({0x10}, kVp8Key)), now);
  a.flush();
  ASSERT_EQ(sink.frames.size(), 1u);
  EXPECT_EQ(sink.frames[0].ts % (uint64_t{1} << 32), 3000u);
  EXPECT_EQ(a.stats().damaged_frames, 1u);
}

TEST(FrameAssembler, RefusesCodecsItCannotRecord) {
  Collect sink;
  TrackFormat f = vp8_format();
  f.codec = rtc::Codec::kOpus;  // as video
  EXPECT_THROW(FrameAssembler a(f, sink), BadInput);
}

}  // namespace
}  // namespace parlor::egress
