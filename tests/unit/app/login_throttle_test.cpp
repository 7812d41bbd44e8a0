#include "app/auth/login_throttle.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parlor::app {
namespace {

constexpr int64_t kMinuteStart = 1'800'000'000 / 60 * 60;  // a whole minute

TEST(LoginThrottle, LimitsEachAccountPerMinuteWithRetryAfter) {
  LoginThrottle t({/*per_account*/ 3, /*overall*/ 1000, /*slots*/ 64});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t.attempt("a@x.org", kMinuteStart + 10), 0);
  EXPECT_EQ(t.attempt("a@x.org", kMinuteStart + 10), 50);  // seconds until the next minute
  EXPECT_EQ(t.attempt("a@x.org", kMinuteStart + 59), 1);
  EXPECT_EQ(t.attempt("b@x.org", kMinuteStart + 59), 0);  // other accounts are unaffected
  EXPECT_EQ(t.attempt("a@x.org", kMinuteStart + 60), 0);  // a new window
}

TEST(LoginThrottle, LimitsAllAccountsTogether) {
  LoginThrottle t({/*per_account*/ 5, /*overall*/ 4, /*slots*/ 64});
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(t.attempt("user" + std::to_string(i) + "@x.org", kMinuteStart), 0);
  }
  EXPECT_EQ(t.attempt("fresh@x.org", kMinuteStart + 30), 30);
  EXPECT_EQ(t.attempt("user0@x.org", kMinuteStart + 30), 30);
  EXPECT_EQ(t.attempt("fresh@x.org", kMinuteStart + 61), 0);
}

TEST(LoginThrottle, FixedTableEvictsTheLeastRecentlyUsedAccount) {
  LoginThrottle t({/*per_account*/ 2, /*overall*/ 1'000'000, /*slots*/ 16});
  const size_t slots = t.slots();
  EXPECT_EQ(slots, 16u);
  EXPECT_EQ(t.attempt("victim@x.org", kMinuteStart), 0);
  EXPECT_EQ(t.attempt("victim@x.org", kMinuteStart), 0);
  EXPECT_GT(t.attempt("victim@x.org", kMinuteStart), 0);
  // Thousands of other accounts: the table does not grow, and the victim's entry (now the
  // least recently used of its set) is eventually evicted, so it starts counting again.
  for (int i = 0; i < 5000; ++i) t.attempt("spray" + std::to_string(i) + "@x.org", kMinuteStart);
  EXPECT_EQ(t.slots(), slots);
  EXPECT_EQ(t.attempt("victim@x.org", kMinuteStart), 0);
}

TEST(LoginThrottle, RecentlyUsedAccountsSurviveInTheirSet) {
  // With as many slots as accounts, nobody is evicted: every account keeps its count.
  LoginThrottle t({/*per_account*/ 1, /*overall*/ 1'000'000, /*slots*/ 4096});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(t.attempt("u" + std::to_string(i), kMinuteStart), 0);
  int refused = 0;
  for (int i = 0; i < 100; ++i) refused += t.attempt("u" + std::to_string(i), kMinuteStart) > 0;
  EXPECT_GE(refused, 95);  // a set can overflow only if more than 8 of 100 hash into it
}

}  // namespace
}  // namespace parlor::app
