#include "rtc/rtcp/twcc.hpp"

#include <algorithm>
#include <limits>

#include "rtc/byte_io.hpp"

namespace parlor::rtc::rtcp {

namespace {
constexpr uint8_t kNotReceived = 0, kSmallDelta = 1, kLargeDelta = 2;
constexpr size_t kHeaderSize = 20;
constexpr size_t kOneBitSymbols = 14, kTwoBitSymbols = 7;
constexpr uint16_t kMaxRun = 0x1FFF;  // 13-bit run length

void put16(std::span<uint8_t> b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
void put32(std::span<uint8_t> b, size_t at, uint32_t v) {
  put16(b, at, static_cast<uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<uint16_t>(v));
}
uint16_t get16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}
uint32_t get32(std::span<const uint8_t> b, size_t at) {
  return (static_cast<uint32_t>(get16(b, at)) << 16) | get16(b, at + 2);
}
}  // namespace

TwccFeedbackBuilder::TwccFeedbackBuilder(uint16_t base_sequence, int64_t reference_us,
                                         uint8_t feedback_count)
    : base_(base_sequence),
      reference_(static_cast<int32_t>(reference_us / kTwccReferenceUnitUs)),
      feedback_count_(feedback_count),
      last_ticks_(static_cast<int64_t>(reference_) * (kTwccReferenceUnitUs / kTwccTickUs)) {}

bool TwccFeedbackBuilder::add_missing() {
  if (count_ >= kMaxPackets) return false;
  symbols_[count_++] = kNotReceived;
  return true;
}

bool TwccFeedbackBuilder::add_received(int64_t arrival_us) {
  if (count_ >= kMaxPackets) return false;
  // Quantise the arrival time, not the difference, so rounding never accumulates.
  int64_t ticks = arrival_us / kTwccTickUs;
  int64_t delta = ticks - last_ticks_;
  if (delta < std::numeric_limits<int16_t>::min() || delta > std::numeric_limits<int16_t>::max())
    return false;
  symbols_[count_] = (delta >= 0 && delta <= 0xFF) ? kSmallDelta : kLargeDelta;
  deltas_[count_] = static_cast<int16_t>(delta);
  ++count_;
  last_ticks_ = ticks;
  return true;
}

size_t TwccFeedbackBuilder::build(std::span<uint8_t> out, uint32_t sender_ssrc,
                                  uint32_t media_ssrc) const {
  if (count_ == 0 || out.size() < kHeaderSize) return 0;
  size_t at = kHeaderSize;
  auto room = [&](size_t n) { return at + n <= out.size(); };
  // Chunks: a run where 14 or more symbols repeat, else the densest vector that holds them.
  for (size_t i = 0; i < count_;) {
    size_t run = 1;
    while (i + run < count_ && symbols_[i + run] == symbols_[i] && run < kMaxRun) ++run;
    uint16_t chunk = 0;
    if (run >= kOneBitSymbols) {
      chunk = static_cast<uint16_t>((symbols_[i] << 13) | run);
      i += run;
    } else {
      size_t n = std::min(kOneBitSymbols, count_ - i);
      bool one_bit =
          std::all_of(&symbols_[i], &symbols_[i] + n, [](uint8_t s) { return s != kLargeDelta; });
      if (one_bit) {
        chunk = 0x8000;
        for (size_t k = 0; k < n; ++k) chunk |= static_cast<uint16_t>(symbols_[i + k] << (13 - k));
        i += n;
      } else {
        n = std::min(kTwoBitSymbols, count_ - i);
        chunk = 0xC000;
        for (size_t k = 0; k < n; ++k)
          chunk |= static_cast<uint16_t>(symbols_[i + k] << (12 - 2 * k));
        i += n;
      }
    }
    if (!room(2)) return 0;
    put16(out, at, chunk);
    at += 2;
  }
  for (size_t i = 0; i < count_; ++i) {
    if (symbols_[i] == kSmallDelta) {
      if (!room(1)) return 0;
      out[at++] = static_cast<uint8_t>(deltas_[i]);
    } else if (symbols_[i] == kLargeDelta) {
      if (!room(2)) return 0;
      put16(out, at, static_cast<uint16_t>(deltas_[i]));
      at += 2;
    }
  }
  size_t padding = (4 - at % 4) % 4;
  if (!room(padding)) return 0;
  for (size_t k = 0; k < padding; ++k) out[at + k] = 0;
  at += padding;
  if (padding) out[at - 1] = static_cast<uint8_t>(padding);  // RFC 3550 §6.4.1: last byte counts
  out[0] = static_cast<uint8_t>(0x80 | (padding ? 0x20 : 0) | kFmtTransportCc);
  out[1] = kRtpFeedback;
  put16(out, 2, static_cast<uint16_t>(at / 4 - 1));
  put32(out, 4, sender_ssrc);
  put32(out, 8, media_ssrc);
  put16(out, 12, base_);
  put16(out, 14, static_cast<uint16_t>(count_));
  put32(out, 16, (static_cast<uint32_t>(reference_) << 8) | feedback_count_);
  return at;
}

std::optional<TwccFeedback> read_twcc(const Header& h, std::span<TwccStatus> out) {
  if (h.type != kRtpFeedback || h.count != kFmtTransportCc) return std::nullopt;
  auto b = h.packet;
  if (b.size() < kHeaderSize) return std::nullopt;
  TwccFeedback f;
  f.sender_ssrc = get32(b, 4);
  f.media_ssrc = get32(b, 8);
  f.base_sequence = get16(b, 12);
  f.status_count = get16(b, 14);
  uint32_t word = get32(b, 16);
  f.reference = static_cast<int32_t>(word) >> 8;  // arithmetic shift sign-extends the 24 bits
  f.feedback_count = static_cast<uint8_t>(word);
  // Symbols first (chunks), then the deltas they announce.
  size_t at = kHeaderSize;
  size_t decoded = 0;
  // Each status keeps its symbol in arrival_us until the deltas are read below.
  auto emit = [&](uint8_t symbol) {
    if (decoded < out.size()) {
      out[decoded] = TwccStatus{static_cast<uint16_t>(f.base_sequence + decoded),
                                symbol != kNotReceived, symbol};
    }
    ++decoded;
  };
  size_t large = 0, small = 0;
  while (decoded < f.status_count) {
    if (at + 2 > b.size()) return std::nullopt;
    uint16_t chunk = get16(b, at);
    at += 2;
    if ((chunk & 0x8000) == 0) {
      uint8_t symbol = static_cast<uint8_t>((chunk >> 13) & 0x3);
      if (symbol == 3) return std::nullopt;
      for (uint16_t k = 0; k < (chunk & kMaxRun) && decoded < f.status_count; ++k) {
        small += symbol == kSmallDelta;
        large += symbol == kLargeDelta;
        emit(symbol);
      }
    } else if ((chunk & 0x4000) == 0) {
      for (size_t k = 0; k < kOneBitSymbols && decoded < f.status_count; ++k) {
        uint8_t symbol = static_cast<uint8_t>((chunk >> (13 - k)) & 0x1);
        small += symbol;
        emit(symbol);
      }
    } else {
      for (size_t k = 0; k < kTwoBitSymbols && decoded < f.status_count; ++k) {
        uint8_t symbol = static_cast<uint8_t>((chunk >> (12 - 2 * k)) & 0x3);
        if (symbol == 3) return std::nullopt;
        small += symbol == kSmallDelta;
        large += symbol == kLargeDelta;
        emit(symbol);
      }
    }
  }
  if (at + small + 2 * large > b.size()) return std::nullopt;
  int64_t ticks = static_cast<int64_t>(f.reference) * (kTwccReferenceUnitUs / kTwccTickUs);
  size_t n = std::min<size_t>(f.status_count, out.size());
  for (size_t i = 0; i < f.status_count; ++i) {
    if (i >= n) break;  // statuses the caller does not keep were bounds-checked above
    auto symbol = static_cast<uint8_t>(out[i].arrival_us);
    if (symbol == kSmallDelta) {
      ticks += b[at++];
    } else if (symbol == kLargeDelta) {
      ticks += static_cast<int16_t>(get16(b, at));
      at += 2;
    }
    out[i].arrival_us = symbol == kNotReceived ? 0 : ticks * kTwccTickUs;
  }
  f.written = n;
  return f;
}

}  // namespace parlor::rtc::rtcp
