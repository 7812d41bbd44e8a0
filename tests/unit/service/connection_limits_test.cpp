#include "service/connection_limits.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace parlor::service {
namespace {

TEST(ConnectionLimiter, RefusesPerAddressAndPerRoomAndFreesSlots) {
  ConnectionLimiter limiter(2, 3);
  auto a = limiter.acquire("10.0.0.1", "r");
  auto b = limiter.acquire("10.0.0.1", "r");
  ASSERT_TRUE(a.lease && b.lease);
  auto c = limiter.acquire("10.0.0.1", "r");
  ASSERT_TRUE(c.refusal);
  EXPECT_EQ(c.refusal->status, 429);
  EXPECT_FALSE(c.lease);
  EXPECT_TRUE(limiter.check("10.0.0.1", "other"));
  auto d = limiter.acquire("10.0.0.2", "r");
  ASSERT_TRUE(d.lease);
  auto e = limiter.acquire("10.0.0.3", "r");
  ASSERT_TRUE(e.refusal);
  EXPECT_EQ(e.refusal->status, 403);
  EXPECT_EQ(limiter.open_to("r"), 3u);
  EXPECT_EQ(limiter.open_total(), 3u);

  a.lease.reset();
  EXPECT_EQ(limiter.open_from("10.0.0.1"), 1u);
  EXPECT_FALSE(limiter.check("10.0.0.1", "r"));
  b.lease.reset();
  d.lease.reset();
  EXPECT_EQ(limiter.open_total(), 0u);
  EXPECT_EQ(limiter.open_from("10.0.0.1"), 0u);
  EXPECT_EQ(limiter.open_to("r"), 0u);
}

TEST(ConnectionLimiter, LeasesMayOutliveTheLimiterAndReleaseOnAnyThread) {
  std::vector<std::shared_ptr<void>> leases;
  {
    ConnectionLimiter limiter(1000, 1000);
    for (int i = 0; i < 200; ++i) leases.push_back(limiter.acquire("ip", "room").lease);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < 100; i += 4) leases[i].reset();
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(limiter.open_from("ip"), 100u);
  }
  leases.clear();  // the limiter is gone; releasing must still be safe
}

}  // namespace
}  // namespace parlor::service
