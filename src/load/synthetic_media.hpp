#pragma once
// Pre-encoded media for `parlor load` without an encoder: RTP headers with the header extensions
// a LiveKit server reads (RFC 8285 one-byte form), VP8 payloads with a valid payload descriptor
// (RFC 7741 §4.2: picture id, start-of-partition, and the VP8 frame header's P bit so keyframes
// are recognised, RFC 6386 §9.1), and Opus-sized audio payloads. Every payload ends with a
// PacketTag (load/accounting.hpp) for the subscribers' books. The bytes between are filler: no
// decoder could show them, and no SFU looks at them.
//
// Pure functions over caller buffers; no allocation.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "load/accounting.hpp"

namespace parlor::load {

// Header extension ids our offers declare (the subscriber side reads what the server offers).
inline constexpr uint8_t kExtMidId = 1;
inline constexpr uint8_t kExtRidId = 2;
inline constexpr uint8_t kExtTransportCcId = 3;
inline constexpr uint8_t kExtAudioLevelId = 4;

struct RtpHeaderSpec {
  uint8_t payload_type = 0;
  bool marker = false;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  std::string_view mid;  // sdes:mid (empty: none)
  std::string_view rid;  // sdes:rtp-stream-id (empty: none)
  bool transport_cc = false;
  uint16_t transport_sequence = 0;
  bool audio_level = false;
  uint8_t level = 0;  // -dBov, 0..127 (RFC 6464), V bit set when voiced
};

// Writes the fixed header and the extension block; returns the header length (0 if `out` is
// too small).
size_t write_rtp_header(std::span<uint8_t> out, const RtpHeaderSpec& spec);

struct Vp8FrameSpec {
  bool keyframe = false;
  uint16_t picture_id = 0;  // 15 bits
  size_t frame_bytes = 0;   // encoded frame size to imitate
  uint16_t width = 0, height = 0;
};

// How many packets a frame needs when each payload holds at most `max_payload` bytes.
size_t vp8_packet_count(const Vp8FrameSpec& frame, size_t max_payload);
// Payload `i` of `count` of the frame, ending with `tag`; returns its length (≤ max_payload),
// 0 if `out` is too small.
size_t write_vp8_payload(std::span<uint8_t> out, const Vp8FrameSpec& frame, size_t i, size_t count,
                         size_t max_payload, const PacketTag& tag);

// An Opus-sized payload of `bytes` (≥ kTagSize + 1): a TOC byte, filler, the tag.
size_t write_opus_payload(std::span<uint8_t> out, size_t bytes, const PacketTag& tag);

}  // namespace parlor::load
