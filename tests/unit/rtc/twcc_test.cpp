// Transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1): bytes
// written by hand from the draft's layout, then parsed back.
#include "rtc/rtcp/twcc.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace parlor::rtc::rtcp {
namespace {

std::vector<uint8_t> built(const TwccFeedbackBuilder& b, uint32_t sender, uint32_t media) {
  std::array<uint8_t, TwccFeedbackBuilder::kMaxSize> out{};
  size_t n = b.build(out, sender, media);
  return {out.begin(), out.begin() + n};
}

std::vector<TwccStatus> parsed(std::vector<uint8_t>& bytes, TwccFeedback* info = nullptr) {
  CompoundIterator it(bytes);
  auto h = it.next();
  EXPECT_TRUE(h);
  std::array<TwccStatus, 512> out{};
  auto f = read_twcc(*h, out);
  EXPECT_TRUE(f);
  if (!f) return {};
  if (info) *info = *f;
  return {out.begin(), out.begin() + f->written};
}

TEST(Twcc, OneBitVectorMatchesTheDraftLayout) {
  // Reference 10 × 64 ms; 100 at +1 ms (4 ticks), 101 lost, 102 2 ms later (8 ticks).
  TwccFeedbackBuilder b(100, 10 * 64000 + 1000, 5);
  ASSERT_TRUE(b.add_received(641000));
  ASSERT_TRUE(b.add_missing());
  ASSERT_TRUE(b.add_received(643000));
  auto bytes = built(b, 1, 0x12345678);
  std::vector<uint8_t> expected = {
      0x8F, 0xCD, 0x00, 0x05,  // V=2 FMT=15, PT=205, length 5 words
      0x00, 0x00, 0x00, 0x01,  // sender SSRC
      0x12, 0x34, 0x56, 0x78,  // media SSRC
      0x00, 0x64, 0x00, 0x03,  // base 100, 3 statuses
      0x00, 0x00, 0x0A, 0x05,  // reference time 10, feedback count 5
      0xA8, 0x00,              // T=1 S=0: 1 0 1, then padding symbols
      0x04, 0x08,              // small deltas in 250 µs units
  };
  EXPECT_EQ(bytes, expected);
  TwccFeedback info;
  auto st = parsed(bytes, &info);
  EXPECT_EQ(info.base_sequence, 100);
  EXPECT_EQ(info.reference, 10);
  EXPECT_EQ(info.feedback_count, 5);
  ASSERT_EQ(st.size(), 3u);
  EXPECT_TRUE(st[0].received);
  EXPECT_EQ(st[0].arrival_us, 641000);
  EXPECT_FALSE(st[1].received);
  EXPECT_EQ(st[2].sequence, 102);
  EXPECT_EQ(st[2].arrival_us, 643000);
}

TEST(Twcc, NegativeDeltaUsesATwoBitVectorAndPaddingIsCounted) {
  TwccFeedbackBuilder b(65535, 64000, 0);
  ASSERT_TRUE(b.add_received(70000));  // +6 ms: 24 ticks
  ASSERT_TRUE(b.add_received(69000));  // arrived 1 ms earlier than the one before: -4 ticks
  auto bytes = built(b, 2, 3);
  // 20 header + one chunk (2) + 1 small + 2 large = 25, padded to 28 with the P bit.
  ASSERT_EQ(bytes.size(), 28u);
  EXPECT_EQ(bytes[0], 0xAF);   // V=2, P, FMT 15
  EXPECT_EQ(bytes[20], 0xD8);  // T=1 S=1: 01 10 00 ...
  EXPECT_EQ(bytes[21], 0x00);
  EXPECT_EQ(bytes[22], 24);
  EXPECT_EQ(bytes[23], 0xFF);  // -4 as 16 bits
  EXPECT_EQ(bytes[24], 0xFC);
  EXPECT_EQ(bytes[27], 3);  // three bytes of padding
  auto st = parsed(bytes);
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].sequence, 65535);
  EXPECT_EQ(st[1].sequence, 0);  // wraps
  EXPECT_EQ(st[1].arrival_us, 69000);
}

TEST(Twcc, LongRunsBecomeRunLengthChunks) {
  TwccFeedbackBuilder b(1, 0, 1);
  ASSERT_TRUE(b.add_received(0));
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(b.add_missing());
  ASSERT_TRUE(b.add_received(100000));  // 100 ms later: a large delta (400 ticks)
  auto bytes = built(b, 1, 1);
  // Chunks: vector for the first 14 (1 + 13 lost), a run of the other 27 lost, then the last.
  EXPECT_EQ(bytes[20], 0xA0);
  EXPECT_EQ(bytes[21], 0x00);
  EXPECT_EQ((bytes[22] << 8 | bytes[23]), 27);  // T=0, S=0, run 27
  auto st = parsed(bytes);
  ASSERT_EQ(st.size(), 42u);
  EXPECT_TRUE(st[41].received);
  EXPECT_EQ(st[41].arrival_us, 100000);
  for (int i = 1; i <= 40; ++i) EXPECT_FALSE(st[i].received);
}

TEST(Twcc, BuilderRefusesWhatCannotBeEncoded) {
  TwccFeedbackBuilder b(0, 0, 0);
  ASSERT_TRUE(b.add_received(0));
  EXPECT_FALSE(b.add_received(9'000'000));  // 9 s: more than a 16-bit delta holds
  for (size_t i = 1; i < TwccFeedbackBuilder::kMaxPackets; ++i) ASSERT_TRUE(b.add_missing());
  EXPECT_FALSE(b.add_missing());
  std::array<uint8_t, 16> tiny{};
  EXPECT_EQ(b.build(tiny, 1, 1), 0u);
}

TEST(Twcc, ParserRejectsTruncatedPackets) {
  TwccFeedbackBuilder b(7, 0, 0);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(b.add_received(i * 1000));
  auto bytes = built(b, 1, 1);
  for (size_t cut = 20; cut < bytes.size(); cut += 4) {
    std::vector<uint8_t> shorter(bytes.begin(), bytes.begin() + cut);
    uint16_t words = static_cast<uint16_t>(cut / 4 - 1);
    shorter[0] &= ~0x20;  // no padding in the shortened packet
    shorter[2] = static_cast<uint8_t>(words >> 8);
    shorter[3] = static_cast<uint8_t>(words);
    CompoundIterator it(shorter);
    auto h = it.next();
    ASSERT_TRUE(h);
    std::array<TwccStatus, 32> out{};
    EXPECT_FALSE(read_twcc(*h, out)) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace parlor::rtc::rtcp
