#include "service/metrics.hpp"

namespace parlor::service {

std::atomic<uint64_t>& Metrics::counter(const std::string& name, const std::string& help) {
  std::lock_guard lock(mutex_);
  auto& e = entries_[name];
  if (!e.counter) {
    e.help = help;
    e.is_counter = true;
    e.counter = std::make_unique<std::atomic<uint64_t>>(0);
  }
  return *e.counter;
}

std::atomic<int64_t>& Metrics::gauge(const std::string& name, const std::string& help) {
  std::lock_guard lock(mutex_);
  auto& e = entries_[name];
  if (!e.gauge) {
    e.help = help;
    e.is_counter = false;
    e.gauge = std::make_unique<std::atomic<int64_t>>(0);
  }
  return *e.gauge;
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, e] : entries_) {
    out += "# HELP " + name + " " + e.help + "\n";
    out += "# TYPE " + name + (e.is_counter ? " counter\n" : " gauge\n");
    out += name + " " +
           (e.is_counter ? std::to_string(e.counter->load()) : std::to_string(e.gauge->load())) +
           "\n";
  }
  return out;
}

}  // namespace parlor::service
