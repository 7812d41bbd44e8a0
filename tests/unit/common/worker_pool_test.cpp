#include "common/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

namespace parlor::common {
namespace {

TEST(WorkerPool, RunsJobsOnItsOwnThreads) {
  WorkerPool pool(2, 8);
  std::promise<std::thread::id> ran;
  ASSERT_TRUE(pool.try_post([&] { ran.set_value(std::this_thread::get_id()); }));
  auto f = ran.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_NE(f.get(), std::this_thread::get_id());
}

TEST(WorkerPool, RefusesJobsBeyondTheQueueLimit) {
  WorkerPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.try_post([&, gate] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the only worker is busy now
  std::atomic<int> done{0};
  EXPECT_TRUE(pool.try_post([&] { ++done; }));
  EXPECT_TRUE(pool.try_post([&] { ++done; }));
  EXPECT_FALSE(pool.try_post([&] { ++done; }));  // queue full: refused, never run
  release.set_value();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (done < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(done, 2);
  EXPECT_TRUE(pool.try_post([] {}));  // room again
}

TEST(WorkerPool, StopDropsQueuedJobsAndRefusesNewOnes) {
  const size_t kRoomy = 1 << 16;  // so a refusal below means "stopping", not "full"
  WorkerPool pool(1, kRoomy);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.try_post([&, gate] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the only worker is busy until released
  std::atomic<bool> ran{false};
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  ASSERT_TRUE(pool.try_post([&ran, token] { ran = true; }));
  token.reset();
  std::thread stopper([&] { pool.stop(); });
  // Queued probes are dropped too; the first refusal shows stop() has begun.
  while (pool.try_post([&ran] { ran = true; })) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  release.set_value();
  stopper.join();
  EXPECT_FALSE(ran);
  EXPECT_TRUE(watch.expired());  // the dropped job (and what it held) was released
  EXPECT_FALSE(pool.try_post([] {}));
}

}  // namespace
}  // namespace parlor::common
