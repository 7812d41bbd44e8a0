#pragma once
// The run's books (issue 14): every packet a publisher sent toward a subscriber is received by it
// or counted lost, and no sequence gap goes unreported. Checked after the run from what the
// publishers say they sent (TrackSent) and what each subscriber's streams recorded
// (StreamResult); any imbalance is a `problem` and makes `parlor load` exit non-zero.
#include <cstdint>
#include <string>
#include <vector>

#include "load/load_peer.hpp"

namespace parlor::load {

struct Books {
  uint64_t streams = 0;           // subscriber streams with packets
  uint64_t expected_streams = 0;  // subscribers × tracks of their room's publishers
  uint64_t received = 0;          // unique packets
  uint64_t duplicates = 0, late = 0, too_late = 0;
  uint64_t lost = 0;            // sequence gaps never filled
  uint64_t server_skipped = 0;  // source packets dropped without a sequence number
  uint64_t layer_switches = 0, resumes = 0, timestamp_anomalies = 0;
  uint64_t tail_unreceived = 0;    // sent on a stream's last layer after its last received packet
  uint64_t published_packets = 0;  // all layers of all tracks
  double jitter_ms_mean = 0, jitter_ms_max = 0;
  std::vector<std::string> problems;

  bool balanced() const { return problems.empty(); }
  double loss_percent() const {
    uint64_t denom = received + lost + server_skipped;
    return denom ? 100.0 * static_cast<double>(lost + server_skipped) / static_cast<double>(denom)
                 : 0;
  }
};

// `peers`: every peer's result (publishers and subscribers, any order); rooms by name.
Books check_books(const std::vector<PeerResult>& peers);

}  // namespace parlor::load
