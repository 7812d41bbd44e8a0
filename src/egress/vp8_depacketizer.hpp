#pragma once
// VP8 frames from RTP payloads (RFC 7741). A frame is the payloads of one RTP timestamp, in
// sequence order, up to the marker bit; each payload starts with the payload descriptor (§4.2,
// parsed by rtc::parse_vp8_descriptor with its X/I/L/T/K extensions), which is stripped. The
// first packet of a frame must start partition 0 (S=1, PID=0), otherwise its beginning was lost.
// Bounds-checked throughout: a malformed payload damages the frame, it never reads past the span.
#include <cstdint>
#include <span>
#include <vector>

namespace parlor::egress {

class Vp8Depacketizer {
 public:
  // Frames larger than this are refused (a 4K keyframe is far below it); bounds the buffer.
  static constexpr size_t kMaxFrameBytes = 8 << 20;

  void begin_frame();
  // The next payload of the frame in sequence order; false if it is malformed or cannot continue
  // the frame (the frame is then damaged and must be dropped).
  bool add(std::span<const uint8_t> payload);
  // The frame's bytes (valid until the next begin_frame) once every packet was added; empty if
  // the frame is unusable (no packet, or a keyframe whose header is cut short).
  std::span<const uint8_t> end_frame();
  bool keyframe() const { return keyframe_; }
  // From the last keyframe's header (RFC 6386 §9.1), 0 before any keyframe.
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  std::vector<uint8_t> buffer_;
  bool started_ = false, keyframe_ = false, valid_ = true;
  int width_ = 0, height_ = 0;
};

// The picture size of a VP8 keyframe (RFC 6386 §9.1: 3-byte frame tag, start code 9d 01 2a, then
// 14-bit width and height, little-endian); false if the frame is not a well-formed keyframe.
bool vp8_keyframe_size(std::span<const uint8_t> frame, int& width, int& height);

}  // namespace parlor::egress
