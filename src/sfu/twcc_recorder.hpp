#pragma once
// The receiving half of transport-wide congestion control: records when each packet carrying
// the transport-wide sequence number extension arrived, and turns what it has recorded into
// feedback for the publisher (rtc/rtcp/twcc.hpp) at a steady cadence. The publisher's send-side
// estimator (GCC in libwebrtc) reads queueing delay from it, so its estimate, and with it the
// simulcast layers it sends, ramps up in seconds instead of waiting for loss reports.
//
// Threading: one worker thread. Fixed storage: a window of the most recent sequence numbers;
// a sender cannot make it grow, and packets older than what was already reported are ignored.
#include <array>
#include <chrono>
#include <cstdint>
#include <span>

#include "rtc/rtcp/twcc.hpp"
#include "rtc/rtp/rtp_packet.hpp"

namespace parlor::sfu {

class TwccRecorder {
 public:
  using Clock = std::chrono::steady_clock;
  // Sequence numbers remembered between two feedbacks (more than a second of media at the
  // interval below even for a 5 Mbit/s publisher).
  static constexpr size_t kWindow = 1024;
  // libwebrtc sends its feedback every 50–250 ms depending on bitrate; 50 ms keeps the
  // estimator's view fresh for a visit's few Mbit/s at negligible cost.
  static constexpr auto kInterval = std::chrono::milliseconds(50);

  void on_packet(uint16_t transport_sequence, uint32_t media_ssrc, Clock::time_point arrival);
  // Whether a feedback is due (the interval has passed and something arrived since the last).
  bool due(Clock::time_point now) const;
  // Writes one feedback packet covering the oldest unreported sequence numbers and returns its
  // length (0 if nothing is pending). Call again while it returns non-zero to drain a backlog.
  size_t build_feedback(std::span<uint8_t> out, uint32_t sender_ssrc, Clock::time_point now);

  uint64_t feedbacks() const { return feedbacks_; }

 private:
  static constexpr int64_t kNotArrived = -1;
  int64_t& slot(int64_t sequence) { return arrivals_[static_cast<size_t>(sequence) % kWindow]; }
  int64_t micros(Clock::time_point t) const;

  rtc::SequenceUnwrapper unwrap_;
  std::array<int64_t, kWindow> arrivals_ = filled();
  int64_t next_ = -1;     // first sequence number not yet reported (-1: nothing seen)
  int64_t highest_ = -1;  // highest sequence number seen
  uint32_t media_ssrc_ = 0;
  uint8_t feedback_count_ = 0;
  uint64_t feedbacks_ = 0;
  Clock::time_point last_feedback_{};
  Clock::time_point epoch_ = Clock::now();

  static std::array<int64_t, kWindow> filled() {
    std::array<int64_t, kWindow> a{};
    a.fill(kNotArrived);
    return a;
  }
};

}  // namespace parlor::sfu
