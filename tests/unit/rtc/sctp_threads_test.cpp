// SCTP associations on several threads at once, as with several media workers: each owner
// thread (a stand-in for a worker: one io_context) runs an association pair back to back, a
// separate thread drives usrsctp's one clock (SctpAssociation::handle_timers), and every listener
// call must arrive on the association's owner thread (what the clock raises for an association
// is handed over through Options::run_on_owner). Each pair moves a stream of messages; all must
// arrive, in order. The figure printed (messages/s with 1 and 2 owners) is the data-channel
// measurement of docs/performance.md "Workers": PARLOR_SCTP_BENCH_MESSAGES raises the count.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rtc/sctp/sctp_association.hpp"

namespace parlor::rtc {
namespace {

constexpr size_t kMessageBytes = 200;  // a chat message or a small state update

size_t message_count() {
  if (const char* v = std::getenv("PARLOR_SCTP_BENCH_MESSAGES")) return std::strtoull(v, nullptr, 10);
  return 3000;
}

// A thread with a task queue: the owner of the associations it creates.
class Owner {
 public:
  Owner() : guard_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~Owner() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  void post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }
  // Runs fn on the owner thread and waits for it.
  template <typename F>
  auto run(F fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    post([&task] { task(); });
    return result.get();
  }
  bool here() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

std::atomic<uint64_t> g_off_owner{0};  // listener calls on a thread other than the owner's

// For comparison only (PARLOR_SCTP_BENCH_GLOBAL_LOCK=1): one process-wide mutex around every call
// into usrsctp, the alternative design the measurement weighs against.
std::mutex g_usrsctp_lock;
bool g_use_lock = false;
std::unique_lock<std::mutex> maybe_lock() {
  return g_use_lock ? std::unique_lock<std::mutex>(g_usrsctp_lock) : std::unique_lock<std::mutex>();
}

// One end of a pair: its packets go to the other end through the owner's queue (never from
// inside usrsctp straight into another association).
class End : public SctpAssociation::Listener {
 public:
  explicit End(Owner& owner) : owner_(owner) {}
  void check() {
    if (!owner_.here()) ++g_off_owner;
  }
  void on_sctp_send(std::span<const uint8_t> packet) override {
    check();
    owner_.post([peer = peer, p = std::vector<uint8_t>(packet.begin(), packet.end())] {
      if (peer->sctp) {
        auto lock = maybe_lock();
        peer->sctp->receive(p);
      }
      if (peer->after_delivery) peer->after_delivery();
    });
  }
  void on_sctp_connected() override {
    check();
    connected = true;
  }
  void on_sctp_closed() override { check(); }
  void on_channel_open(uint16_t stream, const std::string&, const std::string&) override {
    check();
    open_stream = stream;
  }
  void on_channel_message(uint16_t, std::span<const uint8_t> data, bool) override {
    check();
    // In order: the first byte carries the sequence number modulo 256.
    if (data.size() != kMessageBytes || data[0] != static_cast<uint8_t>(received)) ++out_of_order;
    ++received;
  }
  void on_channel_closed(uint16_t) override { check(); }

  Owner& owner_;
  End* peer = nullptr;
  std::function<void()> after_delivery;  // a packet was fed to this end
  std::unique_ptr<SctpAssociation> sctp;
  bool connected = false;
  int open_stream = -1;
  size_t received = 0, out_of_order = 0;
};

// A pair on one owner: connect, open a channel, send `count` messages (retrying while the send
// buffer is full), until the far end has them all.
class Pair {
 public:
  explicit Pair(Owner& owner) : owner_(owner), client_(owner), server_(owner) {
    client_.peer = &server_;
    server_.peer = &client_;
    owner_.run([this] {
      SctpAssociation::Options o;
      o.run_on_owner = [this](std::function<void()> fn) { owner_.post(std::move(fn)); };
      o.dtls_client = true;
      client_.sctp = std::make_unique<SctpAssociation>(o, client_);
      o.dtls_client = false;
      server_.sctp = std::make_unique<SctpAssociation>(o, server_);
      client_.sctp->start();
      server_.sctp->start();
      return 0;
    });
  }
  ~Pair() {
    owner_.run([this] {
      client_.after_delivery = server_.after_delivery = nullptr;
      client_.sctp.reset();
      server_.sctp.reset();
      return 0;
    });
    owner_.run([] { return 0; });  // deliveries queued before the reset have run (and done nothing)
  }
  // Owner thread: starts sending; the pair goes on after every packet delivered (a SACK frees
  // send buffer), so nothing spins while waiting.
  void start(size_t count, std::promise<void>& done) {
    count_ = count;
    done_ = &done;
    client_.after_delivery = server_.after_delivery = [this] { step(); };
    step();
  }
  void step() {
    if (!done_) return;
    auto lock = maybe_lock();
    if (client_.connected && server_.connected && stream_ < 0) {
      auto s = client_.sctp->open_channel("bench", {});
      if (s) stream_ = *s;
    }
    if (stream_ >= 0 && server_.open_stream == stream_) {
      std::vector<uint8_t> message(kMessageBytes, 0);
      while (sent_ < count_) {
        message[0] = static_cast<uint8_t>(sent_);
        if (!client_.sctp->send(static_cast<uint16_t>(stream_), message, true)) break;
        ++sent_;
      }
    }
    lock = {};
    if (server_.received >= count_) {
      done_->set_value();
      done_ = nullptr;
    }
  }
  size_t received() const { return server_.received; }
  size_t out_of_order() const { return server_.out_of_order; }

 private:
  Owner& owner_;
  End client_, server_;
  int stream_ = -1;
  size_t sent_ = 0, count_ = 0;
  std::promise<void>* done_ = nullptr;
};

// usrsctp's clock, on a thread of its own (MediaServer: worker 0's timer).
class Clock {
 public:
  Clock()
      : thread_([this] {
          while (!stop_) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            auto lock = maybe_lock();
            SctpAssociation::handle_timers(5);
          }
        }) {}
  ~Clock() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Runs `owners` pairs at once; returns messages per second over all of them.
double run_pairs(size_t owners, size_t count) {
  std::vector<std::unique_ptr<Owner>> threads;
  std::vector<std::unique_ptr<Pair>> pairs;
  for (size_t i = 0; i < owners; ++i) {
    threads.push_back(std::make_unique<Owner>());
    pairs.push_back(std::make_unique<Pair>(*threads.back()));
  }
  std::vector<std::promise<void>> done(owners);
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < owners; ++i) {
    Pair* p = pairs[i].get();
    auto* d = &done[i];
    threads[i]->post([p, count, d] { p->start(count, *d); });
  }
  for (size_t i = 0; i < owners; ++i) {
    auto f = done[i].get_future();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready) << "pair " << i << " stalled";
    if (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return 0;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (size_t i = 0; i < owners; ++i) {
    EXPECT_EQ(pairs[i]->received(), count);
    EXPECT_EQ(pairs[i]->out_of_order(), 0u);
  }
  pairs.clear();
  threads.clear();
  return static_cast<double>(owners * count) / seconds;
}

TEST(SctpThreads, AssociationsOnSeveralThreadsWithOneClockKeepToTheirOwners) {
  g_use_lock = std::getenv("PARLOR_SCTP_BENCH_GLOBAL_LOCK") != nullptr;
  Clock clock;
  const size_t n = message_count();
  double one = run_pairs(1, n);
  double two = run_pairs(2, n);
  EXPECT_EQ(g_off_owner.load(), 0u) << "a listener was called off its owner's thread";
  std::printf("sctp%s: %zu messages of %zu bytes per pair: 1 owner %.0f msg/s, 2 owners %.0f msg/s (%.2fx)\n",
              g_use_lock ? " (global lock)" : "", n, kMessageBytes, one, two, one > 0 ? two / one : 0.0);
}

}  // namespace
}  // namespace parlor::rtc
