#pragma once
// A cheap receive-rate meter: bytes counted per window, the rate of the last complete window.
// One addition and one comparison per packet; no storage beyond three numbers.
//
// Threading: one worker thread.
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace parlor::sfu {

class BitrateMeter {
 public:
  using Clock = std::chrono::steady_clock;
  // Long enough to average a keyframe into a second of frames at 30 fps.
  static constexpr auto kWindow = std::chrono::milliseconds(1000);

  void add(size_t bytes, Clock::time_point now) {
    if (!started_) {
      started_ = true;
      window_start_ = now;
    }
    auto elapsed = now - window_start_;
    if (elapsed >= kWindow) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
      bps_ = static_cast<int64_t>(bytes_ * 8 * 1'000'000 / static_cast<uint64_t>(us));
      measured_at_ = now;
      bytes_ = 0;
      window_start_ = now;
    }
    bytes_ += bytes;
  }
  // The last window's rate; 0 before the first window closed or when none closed for two windows.
  int64_t bps(Clock::time_point now) const {
    if (bps_ == 0 || now - measured_at_ > 2 * kWindow) return 0;
    return bps_;
  }

 private:
  bool started_ = false;
  Clock::time_point window_start_{}, measured_at_{};
  uint64_t bytes_ = 0;
  int64_t bps_ = 0;
};

}  // namespace parlor::sfu
