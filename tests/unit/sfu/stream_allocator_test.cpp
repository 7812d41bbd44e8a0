// The stream allocator: which layer each of a subscriber's tracks may get within its estimate.
#include "sfu/stream_allocator.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace parlor::sfu {
namespace {

using Track = StreamAllocator::Track;
using Decision = StreamAllocator::Decision;

// Typical VP8 simulcast layers (q, h, f) and Opus.
Track video(uint64_t key, int priority = 0, int max_layer = 2) {
  return {key, true, max_layer, priority, {150'000, 500'000, 1'700'000}};
}
Track audio(uint64_t key) { return {key, false, 0, 0, {40'000, 0, 0}}; }

struct Expect {
  int cap;
  bool paused;
};

struct Case {
  std::string name;
  std::optional<int64_t> budget;
  std::vector<Track> tracks;
  std::vector<Expect> expect;
};

class FitTable : public testing::TestWithParam<Case> {};

TEST_P(FitTable, FirstAllocationFitsTheBudget) {
  const auto& c = GetParam();
  StreamAllocator a;
  std::vector<Decision> out(c.tracks.size());
  a.allocate(c.budget, c.tracks, out, 0);
  ASSERT_EQ(out.size(), c.expect.size());
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].key, c.tracks[i].key) << i;
    EXPECT_EQ(out[i].paused, c.expect[i].paused) << "track " << i;
    if (!c.expect[i].paused) EXPECT_EQ(out[i].cap, c.expect[i].cap) << "track " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    StreamAllocator, FitTable,
    testing::Values(
        Case{"Unconstrained", std::nullopt, {video(1), video(2, 0, 1), audio(3)}, {{2, false}, {1, false}, {0, false}}},
        Case{"AmpleBudget", 10'000'000, {video(1), video(2)}, {{2, false}, {2, false}}},
        Case{"OneTrackMiddle", 1'000'000, {video(1)}, {{1, false}}},
        // 2 × 150 k first, then raises by priority: 1 to h (+350 k), 2 to h (+350 k) = 1.0 M.
        Case{"FairnessLowestFirst", 1'100'000, {video(1, 1), video(2, 0)}, {{1, false}, {1, false}}},
        // 700 k: both at q (300 k), then priority 5 raises to h (+350 k); the other stays at q.
        Case{"PriorityRaisesFirst", 700'000, {video(1, 0), video(2, 5)}, {{0, false}, {1, false}}},
        // Audio reserved: 40 k of 180 k leaves 140 k < 150 k: the video pauses.
        Case{"AudioFirstThenPause", 180'000, {audio(1), video(2)}, {{0, false}, {0, true}}},
        Case{"LowestFitsOnlyOne", 200'000, {video(1, 2), video(2, 1)}, {{0, false}, {0, true}}},
        Case{"SettingsCapRespected", 10'000'000, {video(1, 0, 0)}, {{0, false}}},
        // Only q and f flow (h disabled by the publisher): a raise skips to f when it fits.
        Case{"SkipsLayersNotFlowing", 2'000'000, {Track{1, true, 2, 0, {150'000, 0, 1'700'000}}}, {{2, false}}},
        Case{"SkipsLayersNotFlowingTooBig", 1'000'000, {Track{1, true, 2, 0, {150'000, 0, 1'700'000}}}, {{0, false}}},
        // Nothing measured yet: no decision to take, the settings stand.
        Case{"NothingFlows", 100'000, {Track{1, true, 1, 0, {0, 0, 0}}}, {{1, false}}}),
    [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(StreamAllocator, WithoutPauseTheLowestLayerIsKept) {
  StreamAllocator a({.allow_pause = false});
  std::vector<Track> tracks{video(1)};
  std::vector<Decision> out(1);
  a.allocate(50'000, tracks, out, 0);
  EXPECT_FALSE(out[0].paused);
  EXPECT_EQ(out[0].cap, 0);
  EXPECT_LT(a.spare_bps(), 0);
}

TEST(StreamAllocator, LowersAtOnceRaisesOnlyAfterHeadroomHeld) {
  StreamAllocator a({.allow_pause = true, .raise_after_us = 3'000'000});
  std::vector<Track> tracks{video(1)};
  std::vector<Decision> out(1);
  a.allocate(3'000'000, tracks, out, 0);
  EXPECT_EQ(out[0].cap, 2);
  a.allocate(400'000, tracks, out, 400'000);  // congestion: down to q at once
  EXPECT_EQ(out[0].cap, 0);
  a.allocate(3'000'000, tracks, out, 800'000);  // headroom again: held at q ...
  EXPECT_EQ(out[0].cap, 0);
  a.allocate(3'000'000, tracks, out, 3'000'000);
  EXPECT_EQ(out[0].cap, 0);
  a.allocate(3'000'000, tracks, out, 3'800'000);  // ... until it held for 3 s
  EXPECT_EQ(out[0].cap, 2);
}

TEST(StreamAllocator, ARaiseTheSubscriberAsksForIsNotDamped) {
  StreamAllocator a({.allow_pause = true, .raise_after_us = 3'000'000});
  std::vector<Track> low{video(1, 0, 0)}, high{video(1, 0, 2)};
  std::vector<Decision> out(1);
  // Unconstrained: the settings go LOW then HIGH, and the cap follows at once.
  a.allocate(std::nullopt, low, out, 0);
  EXPECT_EQ(out[0].cap, 0);
  a.allocate(std::nullopt, high, out, 400'000);
  EXPECT_EQ(out[0].cap, 2);
  // Constrained to what the middle layer needs: asking for HIGH again gives what fits, at once.
  a.allocate(3'000'000, low, out, 800'000);
  EXPECT_EQ(out[0].cap, 0);
  a.allocate(1'000'000, high, out, 1'200'000);
  EXPECT_EQ(out[0].cap, 1);
  // More budget later is damped as before (that raise was not asked for).
  a.allocate(3'000'000, high, out, 1'600'000);
  EXPECT_EQ(out[0].cap, 1);
  a.allocate(3'000'000, high, out, 4'700'000);
  EXPECT_EQ(out[0].cap, 2);
}

TEST(StreamAllocator, AHeadroomInterruptedStartsOver) {
  StreamAllocator a({.allow_pause = true, .raise_after_us = 3'000'000});
  std::vector<Track> tracks{video(1)};
  std::vector<Decision> out(1);
  a.allocate(400'000, tracks, out, 0);
  ASSERT_EQ(out[0].cap, 0);
  a.allocate(3'000'000, tracks, out, 1'000'000);
  a.allocate(400'000, tracks, out, 2'000'000);  // the dip resets the clock
  a.allocate(3'000'000, tracks, out, 3'000'000);
  a.allocate(3'000'000, tracks, out, 5'000'000);
  EXPECT_EQ(out[0].cap, 0);
  a.allocate(3'000'000, tracks, out, 6'000'000);
  EXPECT_EQ(out[0].cap, 2);
}

TEST(StreamAllocator, PauseAtOnceResumeAfterHeadroom) {
  StreamAllocator a({.allow_pause = true, .raise_after_us = 2'000'000});
  std::vector<Track> tracks{audio(1), video(2)};
  std::vector<Decision> out(2);
  a.allocate(1'000'000, tracks, out, 0);
  EXPECT_FALSE(out[1].paused);
  a.allocate(150'000, tracks, out, 500'000);
  EXPECT_TRUE(out[1].paused);
  EXPECT_FALSE(out[0].paused);  // audio is never paused
  a.allocate(1'000'000, tracks, out, 1'000'000);
  EXPECT_TRUE(out[1].paused);
  a.allocate(1'000'000, tracks, out, 3'000'000);
  EXPECT_FALSE(out[1].paused);
  EXPECT_EQ(out[1].cap, 1);
}

TEST(StreamAllocator, TracksThatGoAwayAreForgotten) {
  StreamAllocator a({.allow_pause = true, .raise_after_us = 3'000'000});
  std::vector<Track> one{video(1)};
  std::vector<Decision> out(1);
  a.allocate(200'000, one, out, 0);
  ASSERT_EQ(out[0].cap, 0);
  std::vector<Track> other{video(2)};
  a.allocate(200'000, other, out, 100'000);
  // Track 1 comes back: a new track's first allocation applies at once, not held at q.
  a.allocate(3'000'000, one, out, 200'000);
  EXPECT_EQ(out[0].cap, 2);
}

TEST(StreamAllocator, TooSmallOutputIsRefused) {
  StreamAllocator a;
  std::vector<Track> tracks{video(1), video(2)};
  std::vector<Decision> out(1, Decision{99, 1, true});
  a.allocate(1'000'000, tracks, out, 0);
  EXPECT_EQ(out[0].key, 99u);  // untouched
}

}  // namespace
}  // namespace parlor::sfu
