#pragma once
// Downstream congestion control for one subscriber transport: its send-side estimate
// (sfu/send_side_bwe.hpp), fed by the subscriber's transport-cc feedback, and the stream
// allocator (sfu/stream_allocator.hpp) that turns the estimate into a layer cap or a pause on
// each of its DownTracks. The signal session only lists its subscriptions and tells the client
// about pauses (stream_state_update); everything about RTP and RTCP stays here.
//
// Threading: one worker thread. Lifetime: owned with the transport; the DownTracks and UpTracks
// passed to allocate() are only used during the call.
#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "rtc/rtcp/rtcp_packet.hpp"
#include "rtc/rtcp/twcc.hpp"
#include "sfu/send_side_bwe.hpp"
#include "sfu/stream_allocator.hpp"

namespace parlor::sfu {

class DownTrack;
class UpTrack;

// Probing upward (LiveKit's rtc.congestion_control.probe_mode: padding): when the allocator holds
// a track below the layer its subscriber wants, a cluster of padding on the subscriber's RTX
// stream, paced with the media to `estimate + shortfall` × `overshoot` for `duration_us`, shows
// whether the path carries it; a success raises the estimate and the layer at once, a failure
// doubles the wait before the next probe (from `min_interval_us` up to `max_interval_us`: a
// path that widened again is found within about that long).
struct ProbeConfig {
  bool enabled = true;
  // Short, like libwebrtc's (15 ms and 5 packets at least): a probe into a full path queues
  // (target − capacity) × duration, and that delay is what the delay-based estimator then sees.
  // Six ticks of the worker's 10 ms timer.
  int64_t duration_us = 60'000;
  double overshoot = 1.25;
  int64_t min_interval_us = 2'000'000;
  int64_t max_interval_us = 15'000'000;
  int64_t quiet_after_decrease_us = 1'000'000;  // no probe this soon after the estimate fell
};

struct CongestionConfig {
  bool enabled = true;  // LiveKit's rtc.congestion_control.enabled
  BweConfig bwe;
  StreamAllocatorConfig allocator;
  ProbeConfig probe;
};

class SubscriberCongestion {
 public:
  using Clock = std::chrono::steady_clock;
  // Statuses read from one feedback: a feedback covers at most this many packets here; the rest
  // of a longer one is checked by the parser and dropped (libwebrtc sends far fewer per packet).
  static constexpr size_t kMaxStatuses = 1024;

  explicit SubscriberCongestion(const CongestionConfig& config) : config_(config), bwe_(config.bwe), allocator_(config.allocator) {}

  bool enabled() const { return config_.enabled; }
  SendSideBwe& bwe() { return bwe_; }
  const SendSideBwe& bwe() const { return bwe_; }

  // An RTCP transport-layer feedback with FMT 15 from the subscriber. False if malformed.
  bool on_feedback(const rtc::rtcp::Header& header, Clock::time_point now);

  struct Entry {
    uint64_t key = 0;  // stable per subscription (its SSRC)
    DownTrack* down = nullptr;
    UpTrack* up = nullptr;
    bool speaking = false;  // its publisher is an active speaker: served before the others
  };
  struct PauseChange {
    uint64_t key = 0;
    bool paused = false;
  };
  // Runs the allocator over the subscriber's tracks and applies its decisions: each DownTrack's
  // layer cap, and pauses (a resumed video track asks its publisher for a keyframe). Appends to
  // `changes` the tracks whose paused state changed.
  // Also judges the last probe and decides whether to start one.
  void allocate(std::span<const Entry> entries, Clock::time_point now, std::vector<PauseChange>& changes);

  // While a probe runs: called on the transport's timer (every few ms) with a started video
  // DownTrack that has an RTX stream; tops the cluster up with padding to the probe's rate so far.
  // Ends the probe when its time is up.
  void pace(Clock::time_point now, DownTrack* padder);
  bool probing() const { return bwe_.probing(); }

  struct ProbeCounters {
    uint64_t started = 0, succeeded = 0, failed = 0, padding_packets = 0, padding_bytes = 0;
  };
  const ProbeCounters& probe_counters() const { return probe_counters_; }

  static int64_t micros(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  }

 private:
  CongestionConfig config_;
  SendSideBwe bwe_;
  StreamAllocator allocator_;
  std::array<rtc::rtcp::TwccStatus, kMaxStatuses> statuses_{};
  std::vector<StreamAllocator::Track> tracks_;        // scratch, per allocation
  std::vector<StreamAllocator::Decision> decisions_;  // scratch, per allocation
  // probing
  bool probe_confirmed_ = false;       // a probe succeeded since the last allocation
  int64_t probe_interval_us_ = 0;      // current wait between probes (grows on failure)
  int64_t next_probe_us_ = 0;          // no probe before this
  int64_t probe_needed_bps_ = 0;       // estimate + shortfall when the running probe started
  ProbeCounters probe_counters_;
  void maybe_probe(std::span<const Entry> entries, int64_t now_us);
};

}  // namespace parlor::sfu
