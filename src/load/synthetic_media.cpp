#include "load/synthetic_media.hpp"

#include <algorithm>
#include <cstring>

#include "rtc/byte_io.hpp"

namespace parlor::load {

namespace {
constexpr size_t kRtpFixedHeader = 12;
// VP8 payload descriptor as we write it: X=1, S, PID=0 | I=1 | M=1 + 15-bit picture id.
constexpr size_t kVp8Descriptor = 4;
// VP8 frame header (RFC 6386 §9.1): 3-byte frame tag, plus start code and dimensions on keyframes.
constexpr size_t kVp8KeyHeader = 10;
constexpr size_t kVp8InterHeader = 3;
// Opus TOC: config 31 (CELT fullband 20 ms), mono, one frame (RFC 6716 §3.1).
constexpr uint8_t kOpusToc = 0xF8;

size_t frame_header_size(const Vp8FrameSpec& f) {
  return f.keyframe ? kVp8KeyHeader : kVp8InterHeader;
}
}  // namespace

size_t write_rtp_header(std::span<uint8_t> out, const RtpHeaderSpec& s) {
  // One-byte extension elements: (id << 4 | len − 1) then the value.
  size_t ext = 0;
  if (!s.mid.empty()) ext += 1 + s.mid.size();
  if (!s.rid.empty()) ext += 1 + s.rid.size();
  if (s.transport_cc) ext += 3;
  if (s.audio_level) ext += 2;
  size_t ext_padded = (ext + 3) / 4 * 4;
  size_t total = kRtpFixedHeader + (ext ? 4 + ext_padded : 0);
  if (out.size() < total || s.mid.size() > 16 || s.rid.size() > 16) return 0;
  out[0] = static_cast<uint8_t>(0x80 | (ext ? 0x10 : 0));
  out[1] = static_cast<uint8_t>((s.marker ? 0x80 : 0) | (s.payload_type & 0x7F));
  rtc::write_u16(out, 2, s.sequence);
  rtc::write_u32(out, 4, s.timestamp);
  rtc::write_u32(out, 8, s.ssrc);
  if (!ext) return total;
  rtc::write_u16(out, 12, 0xBEDE);
  rtc::write_u16(out, 14, static_cast<uint16_t>(ext_padded / 4));
  size_t at = 16;
  auto element = [&](uint8_t id, std::span<const uint8_t> value) {
    out[at++] = static_cast<uint8_t>((id << 4) | (value.size() - 1));
    std::memcpy(out.data() + at, value.data(), value.size());
    at += value.size();
  };
  auto bytes = [](std::string_view v) {
    return std::span(reinterpret_cast<const uint8_t*>(v.data()), v.size());
  };
  if (!s.mid.empty()) element(kExtMidId, bytes(s.mid));
  if (!s.rid.empty()) element(kExtRidId, bytes(s.rid));
  if (s.transport_cc) {
    uint8_t v[2] = {static_cast<uint8_t>(s.transport_sequence >> 8),
                    static_cast<uint8_t>(s.transport_sequence)};
    element(kExtTransportCcId, v);
  }
  if (s.audio_level) {
    uint8_t v[1] = {s.level};
    element(kExtAudioLevelId, v);
  }
  while (at < total) out[at++] = 0;  // padding elements (id 0)
  return total;
}

size_t vp8_packet_count(const Vp8FrameSpec& f, size_t max_payload) {
  size_t overhead = kVp8Descriptor + kTagSize;
  if (max_payload <= overhead + kVp8KeyHeader) return 0;
  size_t data = f.frame_bytes + frame_header_size(f);
  size_t room = max_payload - overhead;
  return std::max<size_t>(1, (data + room - 1) / room);
}

size_t write_vp8_payload(std::span<uint8_t> out, const Vp8FrameSpec& f, size_t i, size_t count,
                         size_t max_payload, const PacketTag& tag) {
  // The frame (header + data) is cut into `count` nearly equal chunks.
  size_t data = f.frame_bytes + frame_header_size(f);
  size_t chunk = data / count;
  size_t this_chunk = i + 1 == count ? data - chunk * (count - 1) : chunk;
  if (i == 0) this_chunk = std::max(this_chunk, frame_header_size(f));
  size_t len = kVp8Descriptor + this_chunk + kTagSize;
  if (len > max_payload) len = max_payload;
  if (out.size() < len || i >= count) return 0;
  out[0] = static_cast<uint8_t>(0x80 | (i == 0 ? 0x10 : 0));           // X, S on the first, PID 0
  out[1] = 0x80;                                                       // I: picture id present
  out[2] = static_cast<uint8_t>(0x80 | ((f.picture_id >> 8) & 0x7F));  // M: 15-bit id
  out[3] = static_cast<uint8_t>(f.picture_id);
  size_t at = kVp8Descriptor;
  size_t end = len - kTagSize;
  if (i == 0) {
    // Frame tag: P (bit 0) 0 = keyframe, version 0, show_frame 1, first partition size 0.
    out[at] = f.keyframe ? 0x10 : 0x11;
    out[at + 1] = 0;
    out[at + 2] = 0;
    at += 3;
    if (f.keyframe) {
      out[at] = 0x9D;  // start code
      out[at + 1] = 0x01;
      out[at + 2] = 0x2A;
      out[at + 3] = static_cast<uint8_t>(f.width);
      out[at + 4] = static_cast<uint8_t>((f.width >> 8) & 0x3F);
      out[at + 5] = static_cast<uint8_t>(f.height);
      out[at + 6] = static_cast<uint8_t>((f.height >> 8) & 0x3F);
      at += 7;
    }
  }
  for (; at < end; ++at) out[at] = static_cast<uint8_t>(at * 31 + i);
  write_tag(out.first(len), tag);
  return len;
}

size_t write_opus_payload(std::span<uint8_t> out, size_t bytes, const PacketTag& tag) {
  bytes = std::max(bytes, kTagSize + 1);
  if (out.size() < bytes) return 0;
  out[0] = kOpusToc;
  for (size_t at = 1; at < bytes - kTagSize; ++at) out[at] = static_cast<uint8_t>(at * 7);
  write_tag(out.first(bytes), tag);
  return bytes;
}

}  // namespace parlor::load
