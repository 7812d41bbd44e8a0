#include "rtc/rtp/rtp_packet.hpp"

#include <cstring>

#include "rtc/byte_io.hpp"

namespace parlor::rtc {
namespace {
constexpr size_t kFixedHeader = 12;
constexpr uint16_t kOneByteProfile = 0xBEDE;    // RFC 8285 §4.2
constexpr uint16_t kTwoByteProfileMask = 0xFFF0;
constexpr uint16_t kTwoByteProfile = 0x1000;   // RFC 8285 §4.3 (low 4 bits: appbits)
constexpr uint8_t kOneByteStopId = 15;
}  // namespace

std::optional<RtpPacketView> RtpPacketView::parse(std::span<uint8_t> d) {
  if (d.size() < kFixedHeader || (d[0] >> 6) != 2) return std::nullopt;
  RtpPacketView v;
  v.data_ = d;
  size_t at = kFixedHeader + 4 * size_t{static_cast<uint8_t>(d[0] & 0x0F)};
  if (at > d.size()) return std::nullopt;
  if (d[0] & 0x10) {
    if (d.size() - at < 4) return std::nullopt;
    uint16_t profile = read_u16(d, at);
    size_t words = read_u16(d, at + 2);
    if (d.size() - at - 4 < 4 * words) return std::nullopt;
    if (profile == kOneByteProfile || (profile & kTwoByteProfileMask) == kTwoByteProfile) {
      v.extension_offset_ = at + 4;
      v.extension_size_ = 4 * words;
      v.two_byte_ = profile != kOneByteProfile;
    }
    at += 4 + 4 * words;
  }
  v.header_size_ = at;
  if (d[0] & 0x20) {
    if (d.size() == at) return std::nullopt;
    size_t pad = d.back();
    if (pad == 0 || pad > d.size() - at) return std::nullopt;
    v.padding_ = pad;
  }
  return v;
}

uint16_t RtpPacketView::sequence() const { return read_u16(data_, 2); }
uint32_t RtpPacketView::timestamp() const { return read_u32(data_, 4); }
uint32_t RtpPacketView::ssrc() const { return read_u32(data_, 8); }

void RtpPacketView::set_marker(bool m) {
  data_[1] = static_cast<uint8_t>((data_[1] & 0x7F) | (m ? 0x80 : 0));
}
void RtpPacketView::set_payload_type(uint8_t pt) {
  data_[1] = static_cast<uint8_t>((data_[1] & 0x80) | (pt & 0x7F));
}
void RtpPacketView::set_sequence(uint16_t seq) { write_u16(data_, 2, seq); }
void RtpPacketView::set_timestamp(uint32_t ts) { write_u32(data_, 4, ts); }
void RtpPacketView::set_ssrc(uint32_t ssrc) { write_u32(data_, 8, ssrc); }

std::optional<std::span<uint8_t>> RtpPacketView::extension(uint8_t id) const {
  if (!extension_offset_ || id == 0) return std::nullopt;
  size_t at = extension_offset_;
  const size_t end = extension_offset_ + extension_size_;
  while (at < end) {
    uint8_t b = data_[at];
    if (b == 0) {  // padding between elements
      ++at;
      continue;
    }
    uint8_t elem_id;
    size_t len;
    if (two_byte_) {
      if (end - at < 2) return std::nullopt;
      elem_id = b;
      len = data_[at + 1];
      at += 2;
    } else {
      elem_id = b >> 4;
      if (elem_id == kOneByteStopId) return std::nullopt;
      len = size_t{static_cast<uint8_t>(b & 0x0F)} + 1;
      at += 1;
    }
    if (end - at < len) return std::nullopt;
    if (elem_id == id) return data_.subspan(at, len);
    at += len;
  }
  return std::nullopt;
}

bool RtpPacketView::set_extension(uint8_t id, std::span<const uint8_t> value) {
  auto ext = extension(id);
  if (!ext || ext->size() != value.size()) return false;
  std::memcpy(ext->data(), value.data(), value.size());
  return true;
}

uint64_t SequenceUnwrapper::unwrap(uint16_t value) {
  if (!started_) {
    started_ = true;
    last_ = value + (uint64_t{1} << 16);  // room to step back before the first packet
    return last_;
  }
  int16_t delta = static_cast<int16_t>(value - static_cast<uint16_t>(last_));
  uint64_t result = last_ + delta;
  if (delta > 0) last_ = result;
  return result;
}

uint64_t TimestampUnwrapper::unwrap(uint32_t value) {
  if (!started_) {
    started_ = true;
    last_ = value + (uint64_t{1} << 32);
    return last_;
  }
  int32_t delta = static_cast<int32_t>(value - static_cast<uint32_t>(last_));
  uint64_t result = last_ + delta;
  if (delta > 0) last_ = result;
  return result;
}

}  // namespace parlor::rtc
