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

std::atomic<uint64_t>& Metrics::caught(const std::string& boundary) {
  return counter(
      "parlor_exceptions_caught_total{boundary=\"" + boundary + "\"}",
      "Exceptions caught at a thread or protocol boundary (the session or request failed, the "
      "process went on), by boundary");
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  std::string_view last_family;
  for (const auto& [name, e] : entries_) {
    // A labelled series ("name{label=\"v\"}") shares its family's HELP and TYPE lines; the map
    // keeps a family's series together.
    std::string_view family = std::string_view(name).substr(0, name.find('{'));
    if (family != last_family) {
      out += "# HELP " + std::string(family) + " " + e.help + "\n";
      out += "# TYPE " + std::string(family) + (e.is_counter ? " counter\n" : " gauge\n");
      last_family = family;
    }
    out += name + " " +
           (e.is_counter ? std::to_string(e.counter->load()) : std::to_string(e.gauge->load())) +
           "\n";
  }
  return out;
}

}  // namespace parlor::service
