#include "app/domain/visit_rules.hpp"

#include <gtest/gtest.h>

#include "common/errors.hpp"

namespace parlor::app {
namespace {

constexpr int64_t kNoon = 1795521600;  // 2026-11-24T12:00:00Z
constexpr int64_t kHour = 3600;

TEST(VisitRules, BookingChecksTableDriven) {
  VisitRules r;  // 8-20h, 60 min max, 14 days ahead, 7 per week
  r.min_notice_minutes = 60;
  struct Case {
    const char* name;
    BookingRequest req;
    bool allowed;
  } cases[] = {
      {"ordinary", {kNoon + 2 * kHour, 30, 0, 0, false}, true},
      {"too long", {kNoon + 2 * kHour, 90, 0, 0, false}, false},
      {"zero length", {kNoon + 2 * kHour, 0, 0, 0, false}, false},
      {"too little notice", {kNoon + 10 * 60, 30, 0, 0, false}, false},
      {"staff skip notice", {kNoon + 10 * 60, 30, 0, 0, true}, true},
      {"too far ahead", {kNoon + 15 * 24 * kHour, 30, 0, 0, false}, false},
      {"after hours", {kNoon + 8 * kHour + 45 * 60, 30, 0, 0, false}, false},
      {"ends exactly at close", {kNoon + 7 * kHour + 30 * 60, 30, 0, 0, false}, true},
      {"time zone shifts hours", {kNoon + 2 * kHour, 30, -600, 0, false}, false},  // 04:00 local
      {"weekly limit", {kNoon + 2 * kHour, 30, 0, 7, false}, false},
      {"already over", {kNoon - 2 * kHour, 30, 0, 0, true}, false},
  };
  for (const auto& c : cases) {
    auto why = check_booking(r, c.req, kNoon);
    EXPECT_EQ(!why.has_value(), c.allowed) << c.name << ": " << why.value_or("allowed");
  }
}

TEST(VisitRules, StateMachine) {
  using S = VisitStatus;
  EXPECT_TRUE(can_transition(S::kRequested, S::kScheduled));
  EXPECT_TRUE(can_transition(S::kScheduled, S::kLive));
  EXPECT_TRUE(can_transition(S::kLive, S::kCompleted));
  EXPECT_TRUE(can_transition(S::kLive, S::kTerminated));
  EXPECT_TRUE(can_transition(S::kScheduled, S::kMissed));
  EXPECT_FALSE(can_transition(S::kRequested, S::kLive));
  EXPECT_FALSE(can_transition(S::kCompleted, S::kLive));
  EXPECT_FALSE(can_transition(S::kCancelled, S::kScheduled));
  EXPECT_FALSE(can_transition(S::kLive, S::kCancelled));
  EXPECT_TRUE(can_transition(S::kRequested, S::kTerminated));  // staff end, whatever the status
  for (auto done : {S::kCompleted, S::kCancelled, S::kMissed, S::kTerminated}) {
    EXPECT_TRUE(is_final(done));
    EXPECT_FALSE(can_transition(done, S::kTerminated));
  }
  for (auto s : {S::kCompleted, S::kCancelled, S::kMissed, S::kTerminated}) {
    EXPECT_TRUE(is_final(s));
    EXPECT_EQ(visit_status_from(to_string(s)), s);
  }
  EXPECT_FALSE(visit_status_from("bogus"));
}

TEST(VisitRules, JoinWindow) {
  VisitRules r;
  r.join_window_minutes = 10;
  EXPECT_FALSE(in_join_window(r, kNoon, 30, kNoon - 11 * 60));
  EXPECT_TRUE(in_join_window(r, kNoon, 30, kNoon - 10 * 60));
  EXPECT_TRUE(in_join_window(r, kNoon, 30, kNoon + 29 * 60));
  EXPECT_FALSE(in_join_window(r, kNoon, 30, kNoon + 30 * 60));
}

TEST(VisitRules, ValidationRejectsIncoherentRules) {
  VisitRules r;
  EXPECT_NO_THROW(validate_rules(r));
  r.bookable_start_hour = 20;
  r.bookable_end_hour = 8;
  EXPECT_THROW(validate_rules(r), BadInput);
  r = {};
  r.max_duration_minutes = 0;
  EXPECT_THROW(validate_rules(r), BadInput);
}

}  // namespace
}  // namespace parlor::app
