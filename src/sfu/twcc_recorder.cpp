#include "sfu/twcc_recorder.hpp"

namespace parlor::sfu {

int64_t TwccRecorder::micros(Clock::time_point t) const {
  return std::chrono::duration_cast<std::chrono::microseconds>(t - epoch_).count();
}

void TwccRecorder::on_packet(uint16_t transport_sequence, uint32_t media_ssrc,
                             Clock::time_point arrival) {
  auto seq = static_cast<int64_t>(unwrap_.unwrap(transport_sequence));
  media_ssrc_ = media_ssrc;
  if (next_ < 0) next_ = seq;
  if (seq < next_) return;  // already reported (as lost): too late to matter
  if (seq - next_ >= static_cast<int64_t>(kWindow)) {
    // The window overflowed (no feedback for a long time, or the sender jumped ahead): what was
    // pending is given up unreported and recording starts again here.
    arrivals_.fill(kNotArrived);
    next_ = seq;
    highest_ = seq;
  }
  slot(seq) = micros(arrival);
  if (seq > highest_) highest_ = seq;
}

bool TwccRecorder::due(Clock::time_point now) const {
  return highest_ >= next_ && next_ >= 0 && now - last_feedback_ >= kInterval;
}

size_t TwccRecorder::build_feedback(std::span<uint8_t> out, uint32_t sender_ssrc,
                                    Clock::time_point now) {
  if (next_ < 0 || highest_ < next_) return 0;
  // The reference time comes from the first packet that arrived; leading losses are reported
  // as not received before it.
  int64_t first = next_;
  while (first <= highest_ && slot(first) == kNotArrived) ++first;
  if (first > highest_) return 0;  // cannot happen: highest_ itself arrived
  rtc::rtcp::TwccFeedbackBuilder builder(static_cast<uint16_t>(next_), slot(first),
                                         feedback_count_);
  int64_t s = next_;
  for (; s <= highest_; ++s) {
    int64_t at = slot(s);
    bool added = at == kNotArrived ? builder.add_missing() : builder.add_received(at);
    if (!added) break;  // full, or a delta too large for 16 bits: the rest goes next time
  }
  size_t n = builder.build(out, sender_ssrc, media_ssrc_);
  if (n == 0) return 0;
  for (int64_t k = next_; k < s; ++k) slot(k) = kNotArrived;
  next_ = s;
  ++feedback_count_;
  ++feedbacks_;
  last_feedback_ = now;
  return n;
}

}  // namespace parlor::sfu
