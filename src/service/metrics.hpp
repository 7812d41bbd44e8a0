#pragma once
// A small Prometheus registry: named counters and gauges, rendered as text exposition format.
// Counters are plain atomics, so the media path may bump them without locks; registration
// (control path) takes a mutex. Returned references stay valid for the registry's lifetime.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace parlor::service {

class Metrics {
 public:
  // `name` may carry labels: `parlor_x_total{boundary="http"}`; series of one family share the
  // help text given first.
  std::atomic<uint64_t>& counter(const std::string& name, const std::string& help);
  std::atomic<int64_t>& gauge(const std::string& name, const std::string& help);
  std::string render() const;
  // The counter of exceptions caught at one boundary (parlor_exceptions_caught_total{boundary}).
  std::atomic<uint64_t>& caught(const std::string& boundary);

 private:
  struct Entry {
    std::string help;
    bool is_counter;
    std::unique_ptr<std::atomic<uint64_t>> counter;
    std::unique_ptr<std::atomic<int64_t>> gauge;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace parlor::service
