#pragma once
// A small fixed pool of threads with a bounded queue, for blocking work that must stay off an
// io_context thread (the app's API handlers and their Argon2 password hashing). Jobs that do
// not fit in the queue are refused, never queued without bound.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace parlor::common {

class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t queue_limit);
  ~WorkerPool();  // stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`; false (and `job` is not run) when queue_limit jobs are already waiting or the
  // pool is stopped. Jobs must not throw.
  bool try_post(std::function<void()> job);
  // Lets running jobs finish, drops queued ones, joins the threads. Idempotent.
  void stop();

 private:
  void run();

  const size_t queue_limit_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace parlor::common
