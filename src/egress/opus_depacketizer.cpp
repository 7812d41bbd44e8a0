#include "egress/opus_depacketizer.hpp"

#include "rtc/codecs/codecs.hpp"

namespace parlor::egress {

std::optional<uint32_t> opus_packet_samples(std::span<const uint8_t> packet) {
  if (packet.empty()) return std::nullopt;
  uint8_t toc = packet[0];
  uint8_t config = toc >> 3;
  // Frame sizes in 48 kHz samples per configuration range (RFC 6716 Table 2): SILK-only 0–11
  // (10/20/40/60 ms), hybrid 12–15 (10/20 ms), CELT-only 16–31 (2.5/5/10/20 ms).
  uint32_t frame;
  if (config < 12) {
    static constexpr uint32_t kSilk[] = {480, 960, 1920, 2880};
    frame = kSilk[config % 4];
  } else if (config < 16) {
    frame = (config % 2) ? 960 : 480;
  } else {
    static constexpr uint32_t kCelt[] = {120, 240, 480, 960};
    frame = kCelt[config % 4];
  }
  uint32_t count;
  switch (toc & 0x03) {
    case 0: count = 1; break;
    case 1:
    case 2: count = 2; break;
    default:
      if (packet.size() < 2) return std::nullopt;
      count = packet[1] & 0x3F;
      break;
  }
  constexpr uint32_t kMaxSamples = 5760;  // 120 ms, the longest packet RFC 6716 §3.2.5 allows
  if (count == 0 || frame * count > kMaxSamples) return std::nullopt;
  return frame * count;
}

std::optional<OpusFrame> OpusDepacketizer::depacketize(uint8_t payload_type,
                                                        std::span<const uint8_t> payload) const {
  std::span<const uint8_t> packet;
  if (red_payload_type_ != 0 && payload_type == red_payload_type_) {
    auto red = rtc::parse_red(payload);
    // The block headers' PT is not checked: WebRTC only ever puts Opus inside RED, and the
    // forwarding path may have rewritten it to a subscriber's numbering.
    if (!red || red->primary_offset > payload.size()) return std::nullopt;
    packet = payload.subspan(red->primary_offset);
  } else if (payload_type == payload_type_) {
    packet = payload;
  } else {
    return std::nullopt;
  }
  auto samples = opus_packet_samples(packet);
  if (!samples) return std::nullopt;
  return OpusFrame{packet, *samples, (packet[0] & 0x04) != 0};
}

}  // namespace parlor::egress
