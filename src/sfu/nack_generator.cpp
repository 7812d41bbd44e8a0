#include "sfu/nack_generator.hpp"

namespace parlor::sfu {

void NackGenerator::reset() {
  started_ = false;
  count_ = 0;
}

void NackGenerator::add(uint16_t sequence) {
  if (count_ < table_.size()) table_[count_++] = Missing{sequence, 0, {}};
}

void NackGenerator::remove_at(size_t i) {
  table_[i] = table_[--count_];
}

size_t NackGenerator::on_packet(uint16_t sequence, Clock::time_point now, std::span<uint16_t> out) {
  if (!started_) {
    started_ = true;
    highest_ = sequence;
    return 0;
  }
  auto ahead = static_cast<int16_t>(sequence - highest_);
  if (ahead > 0) {
    if (static_cast<size_t>(ahead - 1) > kCapacity - count_) {
      // More lost than the table can hold: the stream jumped (a restart, a long outage). Asking
      // for it all would flood the sender; the subscribers' keyframe requests repair this.
      count_ = 0;
    } else {
      for (uint16_t s = static_cast<uint16_t>(highest_ + 1); s != sequence; ++s) add(s);
    }
    highest_ = sequence;
  } else if (ahead < 0) {
    for (size_t i = 0; i < count_; ++i) {
      if (table_[i].sequence == sequence) {
        if (table_[i].attempts > 0) ++recovered_;
        remove_at(i);
        break;
      }
    }
  }
  size_t n = 0;
  for (size_t i = 0; i < count_;) {
    auto& m = table_[i];
    bool too_old = static_cast<uint16_t>(highest_ - m.sequence) > options_.max_age;
    if (too_old ||
        (m.attempts >= options_.max_attempts && now - m.last_request >= options_.retry_interval)) {
      ++abandoned_;
      remove_at(i);
      continue;
    }
    bool due = m.attempts == 0 || (m.attempts < options_.max_attempts &&
                                   now - m.last_request >= options_.retry_interval);
    if (due && n < out.size()) {
      out[n++] = m.sequence;
      ++m.attempts;
      m.last_request = now;
      ++requested_;
    }
    ++i;
  }
  return n;
}

}  // namespace parlor::sfu
