#include "rtc/codecs/codecs.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <cstring>

#include "rtc/rtp/rtp_packet.hpp"

namespace parlor::rtc {

namespace {
constexpr uint8_t kH264Idr = 5;
constexpr uint8_t kH264Sps = 7;
constexpr uint8_t kH264StapA = 24;
constexpr uint8_t kH264FuA = 28;

bool h264_key_type(uint8_t nal) {
  uint8_t t = nal & 0x1F;
  return t == kH264Idr || t == kH264Sps;
}
}  // namespace

Codec codec_from_name(std::string_view name) {
  if (auto slash = name.find('/'); slash != std::string_view::npos) name = name.substr(slash + 1);
  if (boost::algorithm::iequals(name, "opus")) return Codec::kOpus;
  if (boost::algorithm::iequals(name, "vp8")) return Codec::kVp8;
  if (boost::algorithm::iequals(name, "h264")) return Codec::kH264;
  return Codec::kUnknown;
}

std::string_view codec_mime_type(Codec codec) {
  switch (codec) {
    case Codec::kOpus: return "audio/opus";
    case Codec::kVp8: return "video/VP8";
    case Codec::kH264: return "video/H264";
    case Codec::kUnknown: break;
  }
  return "";
}

std::string_view codec_short_name(Codec codec) {
  switch (codec) {
    case Codec::kOpus: return "opus";
    case Codec::kVp8: return "vp8";
    case Codec::kH264: return "h264";
    case Codec::kUnknown: break;
  }
  return "";
}

bool starts_keyframe(Codec codec, std::span<const uint8_t> payload) {
  switch (codec) {
    case Codec::kVp8: return vp8_starts_keyframe(payload);
    case Codec::kH264: return h264_starts_keyframe(payload);
    default: return false;
  }
}

std::optional<Vp8Descriptor> parse_vp8_descriptor(std::span<const uint8_t> p) {
  if (p.empty()) return std::nullopt;
  Vp8Descriptor d;
  size_t i = 0;
  uint8_t first = p[i++];
  bool extended = first & 0x80;
  d.start_of_partition = first & 0x10;
  d.partition_id = first & 0x07;
  if (extended) {
    if (i >= p.size()) return std::nullopt;
    uint8_t x = p[i++];
    if (x & 0x80) {  // I
      if (i >= p.size()) return std::nullopt;
      if (p[i] & 0x80) {
        if (i + 1 >= p.size()) return std::nullopt;
        d.picture_id = static_cast<uint16_t>(((p[i] & 0x7F) << 8) | p[i + 1]);
        d.picture_id_15bit = true;
        i += 2;
      } else {
        d.picture_id = p[i] & 0x7F;
        i += 1;
      }
    }
    if (x & 0x40) {  // L
      if (i >= p.size()) return std::nullopt;
      d.tl0_pic_idx = p[i++];
    }
    if (x & 0x30) {  // T or K share one byte: TID(2) Y(1) KEYIDX(5)
      if (i >= p.size()) return std::nullopt;
      uint8_t b = p[i++];
      if (x & 0x20) {
        d.temporal_id = b >> 6;
        d.layer_sync = b & 0x20;
      }
      if (x & 0x10) d.key_idx = b & 0x1F;
    }
  }
  d.size = i;
  if (i >= p.size()) return std::nullopt;  // no VP8 payload byte
  d.keyframe = d.start_of_partition && d.partition_id == 0 && (p[i] & 0x01) == 0;
  return d;
}

bool h264_starts_keyframe(std::span<const uint8_t> p) {
  if (p.empty()) return false;
  uint8_t type = p[0] & 0x1F;
  if (type >= 1 && type <= 23) return h264_key_type(p[0]);
  if (type == kH264StapA) {
    size_t i = 1;
    while (i + 2 < p.size()) {
      size_t len = (static_cast<size_t>(p[i]) << 8) | p[i + 1];
      i += 2;
      if (len == 0 || i + len > p.size()) return false;
      if (h264_key_type(p[i])) return true;
      i += len;
    }
    return false;
  }
  if (type == kH264FuA) {
    if (p.size() < 2) return false;
    bool start = p[1] & 0x80;
    return start && h264_key_type(p[1]);
  }
  return false;
}

std::optional<RedPayload> parse_red(std::span<const uint8_t> p, size_t max_blocks) {
  RedPayload red;
  size_t i = 0;
  size_t redundant_bytes = 0;
  while (true) {
    if (i >= p.size() || red.blocks >= max_blocks) return std::nullopt;
    ++red.blocks;
    if ((p[i] & 0x80) == 0) {  // the primary's one-byte header ends the list
      i += 1;
      break;
    }
    if (i + 4 > p.size()) return std::nullopt;
    redundant_bytes += ((static_cast<size_t>(p[i + 2]) & 0x03) << 8) | p[i + 3];
    i += 4;
  }
  red.header_bytes = i;
  red.primary_offset = i + redundant_bytes;
  if (red.primary_offset > p.size()) return std::nullopt;
  return red;
}

void set_red_block_payload_types(std::span<uint8_t> p, const RedPayload& red, uint8_t payload_type) {
  size_t i = 0;
  for (uint8_t b = 0; b < red.blocks && i < red.header_bytes; ++b) {
    bool more = p[i] & 0x80;
    p[i] = static_cast<uint8_t>((p[i] & 0x80) | (payload_type & 0x7F));
    i += more ? 4 : 1;
  }
}

std::optional<size_t> rtx_unwrap(std::span<uint8_t> packet, uint8_t original_payload_type, uint32_t original_ssrc) {
  auto view = RtpPacketView::parse(packet);
  if (!view || view->payload().size() < 2) return std::nullopt;
  auto payload = view->payload();
  uint16_t osn = static_cast<uint16_t>((payload[0] << 8) | payload[1]);
  size_t header = view->header_size();
  size_t tail = packet.size() - header - 2;  // original payload + padding
  std::memmove(packet.data() + header, packet.data() + header + 2, tail);
  size_t length = packet.size() - 2;
  auto out = RtpPacketView::parse(packet.first(length));
  if (!out) return std::nullopt;
  out->set_sequence(osn);
  out->set_payload_type(original_payload_type);
  out->set_ssrc(original_ssrc);
  return length;
}

}  // namespace parlor::rtc
