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

struct CongestionConfig {
  bool enabled = true;  // LiveKit's rtc.congestion_control.enabled
  BweConfig bwe;
  StreamAllocatorConfig allocator;
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
  };
  struct PauseChange {
    uint64_t key = 0;
    bool paused = false;
  };
  // Runs the allocator over the subscriber's tracks and applies its decisions: each DownTrack's
  // layer cap, and pauses (a resumed video track asks its publisher for a keyframe). Appends to
  // `changes` the tracks whose paused state changed.
  void allocate(std::span<const Entry> entries, Clock::time_point now, std::vector<PauseChange>& changes);

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
};

}  // namespace parlor::sfu
