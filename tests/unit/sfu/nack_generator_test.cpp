// Upstream NACK generation: what is asked for, when again, and when given up.
#include "sfu/nack_generator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <vector>

namespace parlor::sfu {
namespace {

using namespace std::chrono_literals;
using Clock = NackGenerator::Clock;

std::vector<uint16_t> feed(NackGenerator& g, uint16_t seq, Clock::time_point now) {
  std::array<uint16_t, 64> out{};
  size_t n = g.on_packet(seq, now, out);
  std::vector<uint16_t> v(out.begin(), out.begin() + n);
  std::sort(v.begin(), v.end());
  return v;
}

TEST(NackGenerator, AsksForAGapAtOnceAndForgetsWhatArrives) {
  NackGenerator g;
  auto t = Clock::now();
  EXPECT_TRUE(feed(g, 100, t).empty());
  EXPECT_TRUE(feed(g, 101, t).empty());
  EXPECT_EQ(feed(g, 104, t), (std::vector<uint16_t>{102, 103}));
  EXPECT_EQ(g.missing(), 2u);
  EXPECT_TRUE(feed(g, 102, t + 10ms).empty());  // the retransmission arrives
  EXPECT_EQ(g.missing(), 1u);
  EXPECT_EQ(g.recovered(), 1u);
  EXPECT_TRUE(feed(g, 105, t + 20ms).empty());  // 103 not due again yet
}

TEST(NackGenerator, RetriesEveryIntervalThenGivesUp) {
  NackGenerator g({.retry_interval = 100ms, .max_attempts = 3, .max_age = 512});
  auto t = Clock::now();
  feed(g, 1, t);
  EXPECT_EQ(feed(g, 3, t), (std::vector<uint16_t>{2}));
  EXPECT_TRUE(feed(g, 4, t + 50ms).empty());
  EXPECT_EQ(feed(g, 5, t + 100ms), (std::vector<uint16_t>{2}));
  EXPECT_EQ(feed(g, 6, t + 200ms), (std::vector<uint16_t>{2}));
  EXPECT_TRUE(feed(g, 7, t + 300ms).empty());  // three attempts: given up
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_EQ(g.requested(), 3u);
  EXPECT_EQ(g.abandoned(), 1u);
}

TEST(NackGenerator, WorksAcrossTheSequenceWrap) {
  NackGenerator g;
  auto t = Clock::now();
  feed(g, 65534, t);
  EXPECT_EQ(feed(g, 1, t), (std::vector<uint16_t>{0, 65535}));
}

TEST(NackGenerator, OldGapsAreDroppedAndHugeJumpsAreNotTracked) {
  NackGenerator g({.retry_interval = 1s, .max_attempts = 10, .max_age = 20});
  auto t = Clock::now();
  feed(g, 0, t);
  EXPECT_EQ(feed(g, 2, t), (std::vector<uint16_t>{1}));
  // 3..24 are missing too, but only 5..24 are within 20 of the newest: 1, 3 and 4 are dropped.
  auto asked = feed(g, 25, t);
  ASSERT_EQ(asked.size(), 20u);
  EXPECT_EQ(asked.front(), 5);
  EXPECT_EQ(asked.back(), 24);
  EXPECT_EQ(g.abandoned(), 3u);
  NackGenerator j;
  feed(j, 0, t);
  EXPECT_TRUE(feed(j, 5000, t).empty());  // a jump wider than the table: a restart, not loss
  EXPECT_EQ(j.missing(), 0u);
  EXPECT_TRUE(feed(j, 4000, t).empty());  // an old packet is not a reason to ask for anything
}

TEST(NackGenerator, OutputIsBoundedAndTheRestStaysDue) {
  NackGenerator g;
  auto t = Clock::now();
  feed(g, 0, t);
  std::array<uint16_t, 4> small{};
  EXPECT_EQ(g.on_packet(11, t, small), 4u);
  EXPECT_EQ(g.on_packet(12, t, small), 4u);
  EXPECT_EQ(g.on_packet(13, t, small), 2u);
  EXPECT_EQ(g.requested(), 10u);
}

}  // namespace
}  // namespace parlor::sfu
