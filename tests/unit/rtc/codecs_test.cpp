// Payload helpers: VP8 descriptor fields, H.264 keyframes in each packetization, RTX unwrap.
#include <gtest/gtest.h>

#include <vector>

#include "rtc/codecs/codecs.hpp"
#include "rtc/rtp/rtp_packet.hpp"

namespace parlor::rtc {
namespace {

TEST(Vp8Descriptor, ReadsEveryOptionalField) {
  // X S PID=0 | I L T K | M + 15-bit picture id 0x1234 | TL0PICIDX 9 | TID 2, Y, KEYIDX 5 | P=0
  std::vector<uint8_t> p = {0x90, 0xF0, 0x92, 0x34, 0x09, 0xA5, 0x00, 0xAA};
  auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->start_of_partition);
  EXPECT_EQ(*d->picture_id, 0x1234);
  EXPECT_TRUE(d->picture_id_15bit);
  EXPECT_EQ(*d->tl0_pic_idx, 9);
  EXPECT_EQ(*d->temporal_id, 2);
  EXPECT_TRUE(d->layer_sync);
  EXPECT_EQ(*d->key_idx, 5);
  EXPECT_EQ(d->size, 6u);
  EXPECT_TRUE(d->keyframe);
  p[6] = 0x01;  // P bit: inter frame
  EXPECT_FALSE(parse_vp8_descriptor(p)->keyframe);
  // Minimal descriptor, 7-bit picture id; every truncation is refused, not over-read.
  std::vector<uint8_t> small = {0x90, 0x80, 0x05, 0x00};
  EXPECT_EQ(*parse_vp8_descriptor(small)->picture_id, 5);
  for (size_t n = 0; n < small.size(); ++n) {
    EXPECT_FALSE(parse_vp8_descriptor(std::span(small).first(n))) << n;
  }
}

TEST(H264, KeyframesInSingleNalStapAAndFuA) {
  std::vector<uint8_t> idr = {0x65, 0x88};
  std::vector<uint8_t> non_idr = {0x41, 0x9A};
  EXPECT_TRUE(h264_starts_keyframe(idr));
  EXPECT_FALSE(h264_starts_keyframe(non_idr));
  // STAP-A carrying SEI (6) then SPS (7)
  std::vector<uint8_t> stap = {0x78, 0x00, 0x02, 0x06, 0x01, 0x00, 0x03, 0x67, 0x42, 0x00};
  EXPECT_TRUE(h264_starts_keyframe(stap));
  stap[7] = 0x68;  // PPS only
  EXPECT_FALSE(h264_starts_keyframe(stap));
  std::vector<uint8_t> bad_stap = {0x78, 0x00, 0x09, 0x67};  // length past the end
  EXPECT_FALSE(h264_starts_keyframe(bad_stap));
  // FU-A: start fragment of an IDR; a middle fragment is not a start
  std::vector<uint8_t> fu_start = {0x7C, 0x85, 0x00};
  std::vector<uint8_t> fu_middle = {0x7C, 0x05, 0x00};
  EXPECT_TRUE(h264_starts_keyframe(fu_start));
  EXPECT_FALSE(h264_starts_keyframe(fu_middle));
  EXPECT_FALSE(h264_starts_keyframe({}));
}

TEST(Rtx, UnwrapRestoresTheOriginalPacket) {
  // RTX: PT 97, seq 7000, SSRC 0xBBBB; OSN 1234 then the original payload "abc"
  std::vector<uint8_t> p = {0x80, 97, 0x1B, 0x58, 0, 0, 0x10, 0, 0, 0, 0xBB, 0xBB, 0x04, 0xD2, 'a', 'b', 'c'};
  auto n = rtx_unwrap(p, 96, 0xAAAA);
  ASSERT_TRUE(n);
  auto v = RtpPacketView::parse(std::span(p).first(*n));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->sequence(), 1234);
  EXPECT_EQ(v->payload_type(), 96);
  EXPECT_EQ(v->ssrc(), 0xAAAAu);
  EXPECT_EQ(v->timestamp(), 0x1000u);
  ASSERT_EQ(v->payload().size(), 3u);
  EXPECT_EQ(v->payload()[0], 'a');
  std::vector<uint8_t> no_osn = {0x80, 97, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x04};
  EXPECT_FALSE(rtx_unwrap(no_osn, 96, 1));
}

TEST(Red, FindsThePrimaryBehindRedundantBlocks) {
  // One redundant block (PT 111, offset 960, 3 bytes), then the primary (PT 111, 4 bytes).
  std::vector<uint8_t> p = {0xEF, 0x0F, 0x00, 0x03, 0x6F, 'r', 'r', 'r', 'p', 'p', 'p', 'p'};
  auto red = parse_red(p);
  ASSERT_TRUE(red);
  EXPECT_EQ(red->blocks, 2);
  EXPECT_EQ(red->header_bytes, 5u);
  EXPECT_EQ(red->primary_offset, 8u);
  set_red_block_payload_types(p, *red, 109);
  EXPECT_EQ(p[0], 0x80 | 109);
  EXPECT_EQ(p[4], 109);
  EXPECT_EQ(p[1], 0x0F);  // offsets and lengths untouched
  // Only a primary.
  std::vector<uint8_t> single = {0x6F, 'p'};
  EXPECT_EQ(parse_red(single)->primary_offset, 1u);
  // Truncated headers, a redundant length past the end, an empty payload, too many blocks.
  for (size_t n = 0; n < 5; ++n) EXPECT_FALSE(parse_red(std::span(p).first(n))) << n;
  std::vector<uint8_t> long_block = {0xEF, 0x0F, 0x00, 0x20, 0x6F, 'p'};
  EXPECT_FALSE(parse_red(long_block));
  std::vector<uint8_t> chain(4 * 9 + 1, 0x80);
  EXPECT_FALSE(parse_red(chain));
}

}  // namespace
}  // namespace parlor::rtc
