#include "app/auth/shared_login_throttle.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/errors.hpp"

namespace parlor::app {
namespace {

constexpr int64_t kMinuteStart = 1'800'000'000 / 60 * 60;  // a whole minute

// Two app instances: two connections to one database file (the app uses this class on
// PostgreSQL; the SQL is the same).
class SharedLoginThrottleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("parlor-throttle-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    std::filesystem::remove(path_);
    a_ = std::make_unique<Database>(path_.string());
    b_ = std::make_unique<Database>(path_.string());
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path_.string() + suffix);
    }
  }
  int rows() {
    int n = -1;
    a_->sql() << "SELECT COUNT(*) FROM login_attempts", soci::into(n);
    return n;
  }
  std::filesystem::path path_;
  std::unique_ptr<Database> a_, b_;
};

TEST_F(SharedLoginThrottleTest, CountsOneAccountAcrossInstances) {
  SharedLoginThrottle a({/*per_account*/ 3, /*overall*/ 1000}, *a_);
  SharedLoginThrottle b({/*per_account*/ 3, /*overall*/ 1000}, *b_);
  EXPECT_EQ(a.account_key("x@y.org"), b.account_key("x@y.org"));  // one key per database
  EXPECT_NE(a.account_key("x@y.org"), a.account_key("z@y.org"));
  EXPECT_EQ(a.attempt("a@x.org", kMinuteStart + 10), 0);
  EXPECT_EQ(b.attempt("a@x.org", kMinuteStart + 11), 0);
  EXPECT_EQ(a.attempt("a@x.org", kMinuteStart + 12), 0);
  EXPECT_EQ(b.attempt("a@x.org", kMinuteStart + 13), 47);  // seconds until the next minute
  EXPECT_EQ(a.attempt("a@x.org", kMinuteStart + 59), 1);
  EXPECT_EQ(b.attempt("b@x.org", kMinuteStart + 59), 0);  // other accounts are unaffected
  EXPECT_EQ(b.attempt("a@x.org", kMinuteStart + 60), 0);  // a new window
}

TEST_F(SharedLoginThrottleTest, LimitsAllAccountsTogetherAndRefusalsDoNotCount) {
  SharedLoginThrottle a({/*per_account*/ 1, /*overall*/ 4}, *a_);
  SharedLoginThrottle b({/*per_account*/ 1, /*overall*/ 4}, *b_);
  EXPECT_EQ(a.attempt("user0@x.org", kMinuteStart), 0);
  // Refused by the account limit: not counted against the overall one.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.attempt("user0@x.org", kMinuteStart + 1), 59);
  EXPECT_EQ(b.attempt("user1@x.org", kMinuteStart + 2), 0);
  EXPECT_EQ(a.attempt("user2@x.org", kMinuteStart + 3), 0);
  EXPECT_EQ(b.attempt("user3@x.org", kMinuteStart + 4), 0);
  EXPECT_EQ(a.attempt("fresh@x.org", kMinuteStart + 30), 30);  // the fifth account of the minute
  EXPECT_EQ(b.attempt("fresh@x.org", kMinuteStart + 61), 0);
}

TEST_F(SharedLoginThrottleTest, TableStaysBoundedAndHoldsNoAddresses) {
  SharedLoginThrottle a({/*per_account*/ 2, /*overall*/ 50}, *a_);
  SharedLoginThrottle b({/*per_account*/ 2, /*overall*/ 50}, *b_);
  // A spray of distinct accounts in one minute: rows stop at the overall limit (+1 for the
  // overall row), whichever instance is asked.
  for (int i = 0; i < 500; ++i) {
    SharedLoginThrottle& t = i % 2 ? a : b;
    t.attempt("spray" + std::to_string(i) + "@x.org", kMinuteStart + 5);
  }
  EXPECT_EQ(rows(), 51);
  int with_at = -1;
  a_->sql() << "SELECT COUNT(*) FROM login_attempts WHERE account LIKE '%@%'", soci::into(with_at);
  EXPECT_EQ(with_at, 0);
  // The next minute's first attempt deletes the old window.
  EXPECT_EQ(a.attempt("late@x.org", kMinuteStart + 65), 0);
  EXPECT_EQ(rows(), 2);
  // A later window again; the other instance sweeps too.
  EXPECT_EQ(b.attempt("later@x.org", kMinuteStart + 200), 0);
  EXPECT_EQ(rows(), 2);
}

TEST_F(SharedLoginThrottleTest, AMalformedStoredKeyIsAClearError) {
  a_->sql() << "INSERT INTO app_secrets (name, value) VALUES ('login_throttle_key', 'short')";
  EXPECT_THROW(SharedLoginThrottle({3, 10}, *b_), InternalError);
}

}  // namespace
}  // namespace parlor::app
