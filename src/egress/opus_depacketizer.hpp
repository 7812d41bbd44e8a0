#pragma once
// Opus frames from RTP payloads (RFC 7587: one Opus packet per RTP packet, no descriptor). With
// RED (RFC 2198, Chromium's "red/48000/2") negotiated, a packet under the RED payload type is
// unwrapped to its primary (newest) block; the redundant blocks are not used to fill losses (the
// recording then has a short gap, which Opus decoders conceal). Every packet's TOC byte is checked
// (RFC 6716 §3.1) and gives its duration, which the Ogg muxer needs for granule positions.
#include <cstdint>
#include <optional>
#include <span>

namespace parlor::egress {

struct OpusFrame {
  std::span<const uint8_t> data;  // one Opus packet, a view into the RTP payload
  uint32_t samples = 0;           // at 48 kHz
  bool stereo = false;            // TOC s bit
};

// Samples (at 48 kHz) in an Opus packet from its TOC byte and frame count (RFC 6716 §3.1–3.2);
// nullopt if the packet is empty, malformed (code 3 without its count byte, zero frames) or
// longer than 120 ms. A 1-byte packet (only the TOC: DTX/PLC) is valid.
std::optional<uint32_t> opus_packet_samples(std::span<const uint8_t> packet);

class OpusDepacketizer {
 public:
  // payload_type: plain Opus; red_payload_type: RED around Opus (0 = not negotiated).
  OpusDepacketizer(uint8_t payload_type, uint8_t red_payload_type)
      : payload_type_(payload_type), red_payload_type_(red_payload_type) {}
  // nullopt if the payload type is neither, the RED headers are malformed, or the Opus packet is.
  std::optional<OpusFrame> depacketize(uint8_t payload_type, std::span<const uint8_t> payload) const;

 private:
  uint8_t payload_type_, red_payload_type_;
};

}  // namespace parlor::egress
