// parlor load's books per stream (src/load/accounting.hpp): sequence unwrap, gaps, duplicates,
// late arrivals, the source-index checks, and RFC 3550 jitter.
#include "load/accounting.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace parlor::load {
namespace {

// Feeds sequence numbers with tags whose index follows the sequence (one layer, no skips).
void feed(StreamAccount& a, std::initializer_list<int> seqs, uint32_t base_index = 1000,
          uint16_t base_seq = 0) {
  for (int s : seqs) {
    PacketTag tag{7, 0, base_index + static_cast<uint32_t>(s)};
    a.on_packet(static_cast<uint16_t>(base_seq + s), 0, 0, 100, &tag, false);
  }
}

TEST(PacketTag, RoundTripsAtTheEndOfThePayload) {
  std::array<uint8_t, 40> payload{};
  PacketTag tag{0x01020304, 2, 0xA0B0C0D0};
  write_tag(payload, tag);
  auto back = read_tag(payload);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, tag);
  payload[payload.size() - kTagSize] ^= 1;  // magic broken
  EXPECT_FALSE(read_tag(payload));
  EXPECT_FALSE(read_tag(std::span(payload).first(kTagSize - 1)));
}

TEST(StreamAccount, InOrderStreamHasNoLoss) {
  StreamAccount a;
  feed(a, {0, 1, 2, 3, 4});
  const auto& c = a.counters();
  EXPECT_EQ(c.unique, 5u);
  EXPECT_EQ(c.lost, 0u);
  EXPECT_EQ(c.expected(), 5u);
  EXPECT_TRUE(a.balanced());
}

TEST(StreamAccount, UnwrapsAcrossTheSixteenBitBoundary) {
  StreamAccount a;
  std::vector<int> seqs;
  for (int i = 0; i < 70000; ++i) seqs.push_back(i);
  for (int s : seqs) {
    PacketTag tag{7, 0, static_cast<uint32_t>(s)};
    a.on_packet(static_cast<uint16_t>(65530 + s), 0, 0, 10, &tag, false);
  }
  EXPECT_EQ(a.counters().unique, 70000u);
  EXPECT_EQ(a.counters().expected(), 70000u);
  EXPECT_EQ(a.counters().lost, 0u);
  EXPECT_EQ(a.counters().phantom, 0u);
  EXPECT_TRUE(a.balanced());
}

TEST(StreamAccount, GapIsLossUntilTheLatePacketFillsIt) {
  StreamAccount a;
  feed(a, {0, 1, 4});
  EXPECT_EQ(a.counters().lost, 2u);
  EXPECT_TRUE(a.balanced());
  feed(a, {2});
  EXPECT_EQ(a.counters().lost, 1u);
  EXPECT_EQ(a.counters().late, 1u);
  EXPECT_TRUE(a.balanced());
  feed(a, {5, 6});
  EXPECT_EQ(a.counters().lost, 1u);  // 3 never came
  EXPECT_EQ(a.counters().unique + a.counters().lost, a.counters().expected());
  EXPECT_EQ(a.counters().phantom, 0u);
}

TEST(StreamAccount, DuplicatesAreCountedOnceAndNeverAsLossOrGain) {
  StreamAccount a;
  feed(a, {0, 1, 1, 2, 0, 2});
  EXPECT_EQ(a.counters().received, 6u);
  EXPECT_EQ(a.counters().unique, 3u);
  EXPECT_EQ(a.counters().duplicates, 3u);
  EXPECT_TRUE(a.balanced());
}

TEST(StreamAccount, PacketsOlderThanTheWindowOrTheFirstAreNotCounted) {
  StreamAccount a;
  feed(a, {10, 11});
  feed(a, {9});  // before the first packet
  EXPECT_EQ(a.counters().too_late, 1u);
  feed(a, {11 + static_cast<int>(StreamAccount::kWindow) + 5});
  feed(a, {12});  // fell out of the window: stays lost
  EXPECT_EQ(a.counters().too_late, 2u);
  EXPECT_TRUE(a.balanced());
}

TEST(StreamAccount, ASourceJumpWithoutASequenceGapIsAServerSkipUnlessAtAKeyframe) {
  StreamAccount a;
  PacketTag t{7, 0, 100};
  a.on_packet(1, 0, 0, 10, &t, false);
  t.index = 101;
  a.on_packet(2, 0, 0, 10, &t, false);
  t.index = 105;  // three source packets never numbered, mid-stream
  a.on_packet(3, 0, 0, 10, &t, false);
  EXPECT_EQ(a.counters().server_skipped, 3u);
  t.index = 200;  // a resume at a keyframe: the server chose not to forward the rest
  a.on_packet(4, 0, 0, 10, &t, true);
  EXPECT_EQ(a.counters().server_skipped, 3u);
  EXPECT_EQ(a.counters().resumes, 1u);
  EXPECT_TRUE(a.balanced());
}

TEST(StreamAccount, ALayerSwitchRestartsTheSourceCheck) {
  StreamAccount a;
  PacketTag t{7, 0, 100};
  a.on_packet(1, 0, 0, 10, &t, false);
  t = {7, 2, 5000};
  a.on_packet(2, 0, 0, 10, &t, true);
  t.index = 5001;
  a.on_packet(3, 0, 0, 10, &t, false);
  EXPECT_EQ(a.counters().layer_switches, 1u);
  EXPECT_EQ(a.counters().server_skipped, 0u);
  EXPECT_EQ(a.last_tag()->layer, 2);
  EXPECT_EQ(a.last_tag()->index, 5001u);
}

TEST(StreamAccount, MoreNumbersThanSourcePacketsUnbalanceTheBooks) {
  StreamAccount a;
  PacketTag t{7, 0, 100};
  a.on_packet(1, 0, 0, 10, &t, false);
  t.index = 101;
  a.on_packet(4, 0, 0, 10, &t, false);  // seq advanced 3, source 1: two invented packets
  EXPECT_EQ(a.counters().phantom, 2u);
  EXPECT_FALSE(a.balanced());
}

TEST(StreamAccount, UntaggedPacketsHoldNumbersWithoutBreakingTheSourceCheck) {
  StreamAccount a;
  PacketTag t{7, 0, 100};
  a.on_packet(1, 0, 0, 10, &t, false);
  a.on_packet(2, 0, 0, 0, nullptr, false);  // padding
  t.index = 101;
  a.on_packet(3, 0, 0, 10, &t, false);
  EXPECT_EQ(a.counters().untagged, 1u);
  EXPECT_EQ(a.counters().phantom, 0u);
  EXPECT_TRUE(a.balanced());
}

TEST(StreamAccount, LossInsideALayerMatchesTheSourceGap) {
  StreamAccount a;
  feed(a, {0, 1, 2, 5, 6});  // 3 and 4 lost: the source index jumps by the same amount
  EXPECT_EQ(a.counters().lost, 2u);
  EXPECT_EQ(a.counters().server_skipped, 0u);
  EXPECT_EQ(a.counters().phantom, 0u);
}

TEST(StreamAccount, TimestampsGoingBackwardsAreAnomalies) {
  StreamAccount a(48000);
  PacketTag t{1, 0, 0};
  a.on_packet(1, 960, 0, 10, &t, false);
  t.index = 1;
  a.on_packet(2, 1920, 0, 10, &t, false);
  t.index = 2;
  a.on_packet(3, 100, 0, 10, &t, false);
  EXPECT_EQ(a.counters().timestamp_anomalies, 1u);
}

TEST(JitterEstimator, ZeroForPerfectPacingAndGrowsWithVariation) {
  JitterEstimator j(90000);
  for (int i = 0; i < 100; ++i) j.on_packet(static_cast<uint32_t>(i * 3000), i * 33'333);
  EXPECT_LT(j.jitter_ms(), 0.05);
  JitterEstimator k(90000);
  for (int i = 0; i < 200; ++i)
    k.on_packet(static_cast<uint32_t>(i * 3000), i * 33'333 + (i % 2 ? 10'000 : 0));
  // |D| alternates around 10 ms; the estimate converges towards it.
  EXPECT_GT(k.jitter_ms(), 8.0);
  EXPECT_LT(k.jitter_ms(), 11.0);
}

}  // namespace
}  // namespace parlor::load
