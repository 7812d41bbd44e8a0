// The ownership assertion of media workers (issue 14): what is pinned to a worker may be touched
// only on its thread. In debug and sanitizer builds a touch from another thread aborts with a
// clear message; on the worker's thread, and after the worker stopped (teardown by the owner),
// it passes.
#include <gtest/gtest.h>

#include "sfu/worker.hpp"

namespace parlor::sfu {
namespace {

TEST(WorkerOwnership, OnTheWorkerThreadAndAfterStopTouchesPass) {
  Worker worker(Worker::Options{.index = 3});
  EXPECT_EQ(worker.index(), 3u);
  auto ok = worker.call<bool>([&] {
    worker.check_owner("a test object");
    return worker.on_worker_thread();
  });
  ASSERT_TRUE(ok);
  EXPECT_TRUE(*ok);
  worker.stop();
  worker.check_owner("a test object after stop");  // the owner tears down from its own thread
}

TEST(WorkerOwnershipDeathTest, ATouchFromAnotherThreadAborts) {
  if (!kOwnershipChecks) GTEST_SKIP() << "ownership checks are compiled out of release builds";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Worker worker(Worker::Options{.index = 1});
        worker.check_owner("a Room (find)");
      },
      "ownership violation: a Room \\(find\\) belongs to media worker 1 but was touched from another thread");
}

}  // namespace
}  // namespace parlor::sfu
