#pragma once
// What the forwarding path needs to know about payloads, without decoding them:
// VP8 payload descriptor (RFC 7741 §4.2), H.264 keyframe detection (RFC 6184: single NAL unit,
// STAP-A, FU-A), and RTX unwrap (RFC 4588 §4). Pure functions over spans; no allocation.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace parlor::rtc {

// The codecs the forwarding path understands: it finds their keyframes, so it can start a
// subscriber and switch simulcast layers cleanly. Anything else is not forwarded.
enum class Codec : uint8_t { kUnknown, kOpus, kVp8, kH264 };

// From an SDP rtpmap encoding name or a LiveKit codec name ("VP8", "h264", "video/H264"),
// case-insensitively; kUnknown for anything else.
Codec codec_from_name(std::string_view name);
// "audio/opus", "video/VP8", "video/H264": TrackInfo.mime_type as LiveKit writes it.
std::string_view codec_mime_type(Codec codec);
// "opus", "vp8", "h264": the name in SubscribedCodec and AddTrackRequest.simulcast_codecs.
std::string_view codec_short_name(Codec codec);

struct Vp8Descriptor {
  bool start_of_partition = false;  // S
  uint8_t partition_id = 0;         // PID
  std::optional<uint16_t> picture_id;  // 7 or 15 bits
  bool picture_id_15bit = false;
  std::optional<uint8_t> tl0_pic_idx;
  std::optional<uint8_t> temporal_id;  // TID (with T)
  bool layer_sync = false;             // Y
  std::optional<uint8_t> key_idx;      // KEYIDX (with K)
  size_t size = 0;                     // descriptor bytes before the VP8 payload
  bool keyframe = false;               // starts a key frame (S=1, PID=0, P bit 0)
};

// nullopt when the descriptor runs past the payload.
std::optional<Vp8Descriptor> parse_vp8_descriptor(std::span<const uint8_t> payload);
inline bool vp8_starts_keyframe(std::span<const uint8_t> payload) {
  auto d = parse_vp8_descriptor(payload);
  return d && d->keyframe;
}

// True when the packet carries (the start of) an IDR picture or its SPS: NAL types 5 or 7 as a
// single NAL unit, inside a STAP-A (24), or as the first fragment of an FU-A (28).
bool h264_starts_keyframe(std::span<const uint8_t> payload);

// Whether `payload` starts a keyframe of `codec` (false for audio and unknown codecs).
bool starts_keyframe(Codec codec, std::span<const uint8_t> payload);

// RFC 4588: turns an RTX packet back into the original one in place: sequence number from the
// OSN, the original payload type and SSRC, the 2-byte OSN removed. Returns the new length, or
// nullopt if the packet is not a valid RTX packet (too short for the OSN).
std::optional<size_t> rtx_unwrap(std::span<uint8_t> packet, uint8_t original_payload_type, uint32_t original_ssrc);

}  // namespace parlor::rtc
