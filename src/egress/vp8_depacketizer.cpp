#include "egress/vp8_depacketizer.hpp"

#include "rtc/codecs/codecs.hpp"

namespace parlor::egress {

bool vp8_keyframe_size(std::span<const uint8_t> frame, int& width, int& height) {
  // Frame tag bit 0 is the inverse keyframe flag; a keyframe carries 7 more header bytes.
  constexpr size_t kKeyframeHeader = 10;
  if (frame.size() < kKeyframeHeader || (frame[0] & 0x01) != 0) return false;
  if (frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a) return false;
  width = (frame[6] | (frame[7] << 8)) & 0x3FFF;
  height = (frame[8] | (frame[9] << 8)) & 0x3FFF;
  return width > 0 && height > 0;
}

void Vp8Depacketizer::begin_frame() {
  buffer_.clear();
  started_ = false;
  keyframe_ = false;
  valid_ = true;
}

bool Vp8Depacketizer::add(std::span<const uint8_t> payload) {
  if (!valid_) return false;
  auto d = rtc::parse_vp8_descriptor(payload);
  bool ok = d.has_value();
  if (ok && !started_) {
    // Only partition 0's first packet can begin a frame; anything else means its start was lost.
    ok = d->start_of_partition && d->partition_id == 0;
    keyframe_ = ok && d->keyframe;
  }
  if (ok && buffer_.size() + (payload.size() - d->size) > kMaxFrameBytes) ok = false;
  if (!ok) {
    valid_ = false;
    return false;
  }
  started_ = true;
  auto body = payload.subspan(d->size);
  buffer_.insert(buffer_.end(), body.begin(), body.end());
  return true;
}

std::span<const uint8_t> Vp8Depacketizer::end_frame() {
  if (!valid_ || !started_ || buffer_.empty()) return {};
  if (keyframe_ && !vp8_keyframe_size(buffer_, width_, height_)) return {};
  return buffer_;
}

}  // namespace parlor::egress
