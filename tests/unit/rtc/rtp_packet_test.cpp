#include "rtc/rtp/rtp_packet.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace parlor::rtc {
namespace {

// V=2 X=1 CC=1 M=1 PT=96 seq=0x1234 ts=0xDEADBEEF ssrc=0x11223344 csrc=0x55667788,
// one-byte extensions: id 1 (mid "0"), id 3 (audio level 0x8A), then padding to a word,
// payload "abc", 3 padding bytes counted in the last one.
std::vector<uint8_t> sample() {
  return {0xB1, 0xE0, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x11, 0x22, 0x33, 0x44,
          0x55, 0x66, 0x77, 0x88,                          // CSRC
          0xBE, 0xDE, 0x00, 0x01,                          // one-byte profile, 1 word
          0x10, '0', 0x30, 0x8A,                           // id1 len1 "0", id3 len1 0x8A
          'a', 'b', 'c', 0x00, 0x00, 0x03};                // payload + padding (count 3)
}

TEST(RtpPacket, ParsesHeaderExtensionsAndPadding) {
  auto bytes = sample();
  auto p = RtpPacketView::parse(bytes);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payload_type(), 96);
  EXPECT_EQ(p->sequence(), 0x1234);
  EXPECT_EQ(p->timestamp(), 0xDEADBEEFu);
  EXPECT_EQ(p->ssrc(), 0x11223344u);
  EXPECT_EQ(p->csrc_count(), 1);
  EXPECT_EQ(p->header_size(), 24u);
  EXPECT_EQ(p->padding_size(), 3u);
  ASSERT_EQ(p->payload().size(), 3u);
  EXPECT_EQ(p->payload()[0], 'a');
  auto mid = p->extension(1);
  ASSERT_TRUE(mid);
  EXPECT_EQ(std::string(mid->begin(), mid->end()), "0");
  auto level = p->extension(3);
  ASSERT_TRUE(level);
  EXPECT_EQ((*level)[0], 0x8A);
  EXPECT_FALSE(p->extension(2));
}

TEST(RtpPacket, RewritesInPlaceAndRoundTrips) {
  auto bytes = sample();
  auto p = RtpPacketView::parse(bytes);
  ASSERT_TRUE(p);
  p->set_ssrc(0xCAFEBABE);
  p->set_sequence(7);
  p->set_timestamp(90000);
  p->set_payload_type(111);
  p->set_marker(false);
  uint8_t mid = '5';
  EXPECT_TRUE(p->set_extension(1, {&mid, 1}));
  uint8_t two[2] = {1, 2};
  EXPECT_FALSE(p->set_extension(1, two));  // size must match
  auto q = RtpPacketView::parse(bytes);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->ssrc(), 0xCAFEBABEu);
  EXPECT_EQ(q->sequence(), 7);
  EXPECT_EQ(q->timestamp(), 90000u);
  EXPECT_EQ(q->payload_type(), 111);
  EXPECT_FALSE(q->marker());
  EXPECT_EQ((*q->extension(1))[0], '5');
  // Nothing outside the rewritten fields moved.
  auto original = sample();
  EXPECT_EQ(bytes[0], original[0]);
  EXPECT_TRUE(std::equal(bytes.begin() + 12, bytes.begin() + 20, original.begin() + 12));
  EXPECT_TRUE(std::equal(bytes.begin() + 22, bytes.end(), original.begin() + 22));
}

TEST(RtpPacket, TwoByteExtensions) {
  std::vector<uint8_t> b = {0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,
                            0x10, 0x00, 0x00, 0x02,          // two-byte profile, 2 words
                            0x05, 0x03, 'a', 'b', 'c', 0x00, 0x00, 0x00,
                            0xFF};
  auto p = RtpPacketView::parse(b);
  ASSERT_TRUE(p);
  auto e = p->extension(5);
  ASSERT_TRUE(e);
  EXPECT_EQ(std::string(e->begin(), e->end()), "abc");
  EXPECT_EQ(p->payload().size(), 1u);
}

TEST(RtpPacket, RejectsMalformedPackets) {
  auto bad = [](std::vector<uint8_t> b) { return !RtpPacketView::parse(b).has_value(); };
  EXPECT_TRUE(bad({0x80, 0x60, 0, 1}));                                   // short
  EXPECT_TRUE(bad({0x40, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}));           // version 1
  EXPECT_TRUE(bad({0x8F, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}));           // 15 CSRCs missing
  EXPECT_TRUE(bad({0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0, 9}));  // ext overflow
  EXPECT_TRUE(bad({0xA0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 'x', 0x00}));  // padding count 0
  EXPECT_TRUE(bad({0xA0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 'x', 0x09}));  // padding > payload
  EXPECT_TRUE(bad({0xA0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}));             // padding, no bytes
  // An element claiming more bytes than the block holds is simply not found.
  std::vector<uint8_t> lying = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0, 1, 0x1F, 0, 0, 0};
  auto p = RtpPacketView::parse(lying);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->extension(1));
}

TEST(RtpPacket, RandomBytesNeverCrash) {
  std::mt19937 rng(5);
  std::vector<uint8_t> buf(300);
  for (int i = 0; i < 50000; ++i) {
    size_t n = rng() % buf.size();
    for (size_t j = 0; j < n; ++j) buf[j] = static_cast<uint8_t>(rng());
    if (n) buf[0] = static_cast<uint8_t>(0x80 | (buf[0] & 0x3F));
    if (auto p = RtpPacketView::parse({buf.data(), n})) {
      for (uint8_t id = 0; id < 16; ++id) (void)p->extension(id);
      (void)p->payload();
    }
  }
}

TEST(Unwrap, SequenceNumbersAcrossWrapAndReordering) {
  SequenceUnwrapper u;
  uint64_t a = u.unwrap(65534);
  EXPECT_EQ(u.unwrap(65535), a + 1);
  EXPECT_EQ(u.unwrap(0), a + 2);
  EXPECT_EQ(u.unwrap(65535), a + 1);  // late packet stays before the wrap
  EXPECT_EQ(u.unwrap(2), a + 4);
  EXPECT_EQ(u.unwrap(1), a + 3);
  TimestampUnwrapper t;
  uint64_t b = t.unwrap(0xFFFFFF00u);
  EXPECT_EQ(t.unwrap(0x100u), b + 0x200);
}

}  // namespace
}  // namespace parlor::rtc
