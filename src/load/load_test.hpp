#pragma once
// `parlor load`'s run (issue 14): N rooms × P publishers × S subscribers against a
// LiveKit-protocol server, spread over generator threads (one io_context each, every peer its
// own UDP socket); the machine's floor measured in the same process just before; the server's
// CPU and memory read from /proc over the measurement window; the books checked at the end.
//
// Phases: join (peers started at --join-rate, until every one has media flowing or the join
// timeout) → measurement window (`duration`) → publishers stop → drain (1 s) → books closed →
// leave.
#include <chrono>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "load/books.hpp"
#include "load/floor.hpp"
#include "load/load_peer.hpp"
#include "load/proc_stats.hpp"

namespace parlor::load {

struct LoadOptions {
  std::string url = "ws://127.0.0.1:7880";
  std::string api_key, api_secret;
  int rooms = 1, publishers = 1, subscribers = 1;
  std::chrono::milliseconds duration{20000};
  std::chrono::milliseconds join_timeout{30000};
  double join_rate = 20;  // peers started per second
  int threads = 1;
  std::string room_prefix = "load";
  MediaOptions media;
  std::optional<pid_t> server_pid;
  bool floor = true;
  // Drive a Janus VideoRoom through its HTTP API instead (http://host:port/janus): the same
  // peers and media, rooms created by the generator.
  std::string janus_url;
};

struct Percentiles {
  size_t count = 0;
  double p50 = 0, p95 = 0, p99 = 0, max = 0;
};
Percentiles percentiles(std::vector<double> values);

struct LoadReport {
  LoadOptions options;
  double window_seconds = 0;
  uint64_t peers = 0, joined = 0, media_flowing = 0, failed = 0;
  Percentiles join_ms, media_ms;
  // Over the window.
  double forwarded_pps = 0, forwarded_bps = 0;  // received by subscribers
  double published_pps = 0, published_bps = 0;  // sent by publishers
  double fanout = 0;                            // forwarded / published packets
  std::optional<ProcSample> server_start, server_end;
  double server_cpu_seconds = 0, server_cpu_percent = 0;
  double server_us_per_forwarded = 0;
  std::string srtp_profile;
  std::optional<FloorResult> floor;
  double floor_us = 0, floor_gso_us = 0, floor_ratio = 0;
  Books books;
  uint64_t plis = 0, nacks = 0, retransmitted = 0, srtp_errors = 0, feedbacks = 0;

  nlohmann::json to_json() const;
  void print_table(std::ostream& out) const;
};

// Runs the load; progress lines go to `progress` once a second. Throws on setup errors (bad URL,
// unreachable host).
LoadReport run_load(const LoadOptions& options, std::ostream& progress);

}  // namespace parlor::load
