// Recording arrivals and turning them into transport-cc feedback.
#include "sfu/twcc_recorder.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace parlor::sfu {
namespace {

using namespace std::chrono_literals;

std::vector<rtc::rtcp::TwccStatus> feedback(TwccRecorder& r, TwccRecorder::Clock::time_point now,
                                            size_t* length = nullptr) {
  std::array<uint8_t, rtc::rtcp::TwccFeedbackBuilder::kMaxSize> out{};
  size_t n = r.build_feedback(out, 1, now);
  if (length) *length = n;
  if (n == 0) return {};
  rtc::rtcp::CompoundIterator it({out.data(), n});
  auto h = it.next();
  EXPECT_TRUE(h);
  std::array<rtc::rtcp::TwccStatus, 1024> st{};
  auto f = rtc::rtcp::read_twcc(*h, st);
  EXPECT_TRUE(f);
  return {st.begin(), st.begin() + f->written};
}

TEST(TwccRecorder, ReportsArrivalsAndGapsOnceEach) {
  TwccRecorder r;
  auto t = TwccRecorder::Clock::now();
  r.on_packet(10, 0xA, t);
  r.on_packet(11, 0xA, t + 2ms);
  r.on_packet(13, 0xB, t + 5ms);
  EXPECT_TRUE(r.due(t + 60ms));
  auto st = feedback(r, t + 60ms);
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[0].sequence, 10);
  EXPECT_TRUE(st[0].received);
  EXPECT_EQ(st[1].arrival_us - st[0].arrival_us, 2000);
  EXPECT_FALSE(st[2].received);
  EXPECT_EQ(st[3].arrival_us - st[0].arrival_us, 5000);
  EXPECT_FALSE(r.due(t + 200ms));  // nothing new
  r.on_packet(12, 0xA, t + 70ms);  // too late: already reported lost
  EXPECT_FALSE(r.due(t + 200ms));
  r.on_packet(14, 0xA, t + 80ms);
  st = feedback(r, t + 200ms);
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].sequence, 14);
  EXPECT_EQ(r.feedbacks(), 2u);
}

TEST(TwccRecorder, ABacklogDrainsInSeveralFeedbacksAndAJumpIsBounded) {
  TwccRecorder r;
  auto t = TwccRecorder::Clock::now();
  for (uint16_t s = 0; s < 600; ++s) r.on_packet(s, 1, t + std::chrono::microseconds(s * 100));
  size_t total = 0, len = 0;
  for (int i = 0; i < 5; ++i) {
    auto st = feedback(r, t + 1s, &len);
    if (len == 0) break;
    EXPECT_LE(st.size(), rtc::rtcp::TwccFeedbackBuilder::kMaxPackets);
    total += st.size();
  }
  EXPECT_EQ(total, 600u);
  // A sender jumping far ahead does not make the recorder report (or store) the whole gap.
  r.on_packet(20000, 1, t + 2s);
  auto st = feedback(r, t + 3s);
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].sequence, 20000);
  EXPECT_TRUE(st[0].received);
}

}  // namespace
}  // namespace parlor::sfu
