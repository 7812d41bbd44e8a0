#include "egress/h264_depacketizer.hpp"

namespace parlor::egress {
namespace {

constexpr uint8_t kNalIdr = 5, kNalSps = 7, kNalPps = 8, kStapA = 24, kFuA = 28;
constexpr uint8_t kStartCode[] = {0, 0, 0, 1};

}  // namespace

void H264Depacketizer::begin_frame() {
  buffer_.clear();
  valid_ = true;
  in_fu_ = false;
  has_idr_ = has_sps_ = has_pps_ = keyframe_ = false;
}

void H264Depacketizer::append_start_code(std::vector<uint8_t>& out) const {
  out.insert(out.end(), std::begin(kStartCode), std::end(kStartCode));
}

bool H264Depacketizer::add_nal(std::span<const uint8_t> nal) {
  // forbidden_zero_bit set: not H.264 (§1.3 of RFC 6184: the receiver may discard it).
  if (nal.empty() || (nal[0] & 0x80) != 0) return false;
  if (buffer_.size() + nal.size() + sizeof(kStartCode) > kMaxFrameBytes) return false;
  uint8_t type = nal[0] & 0x1F;
  if (type == kNalSps || type == kNalPps) {
    if (nal.size() > kMaxParameterSetBytes) return false;
    auto& set = type == kNalSps ? sps_ : pps_;
    set.assign(nal.begin(), nal.end());
    (type == kNalSps ? has_sps_ : has_pps_) = true;
  }
  if (type == kNalIdr) has_idr_ = true;
  append_start_code(buffer_);
  buffer_.insert(buffer_.end(), nal.begin(), nal.end());
  return true;
}

bool H264Depacketizer::add(std::span<const uint8_t> payload) {
  if (!valid_) return false;
  bool ok = false;
  if (!payload.empty() && (payload[0] & 0x80) == 0) {
    uint8_t type = payload[0] & 0x1F;
    if (type >= 1 && type <= 23) {
      ok = !in_fu_ && add_nal(payload);
    } else if (type == kStapA) {
      //  STAP-A: header byte, then (16-bit size, NAL unit) repeated to the end of the payload.
      ok = !in_fu_;
      size_t pos = 1;
      while (ok && pos < payload.size()) {
        if (payload.size() - pos < 2) {
          ok = false;
          break;
        }
        size_t size = (size_t{payload[pos]} << 8) | payload[pos + 1];
        pos += 2;
        if (size == 0 || size > payload.size() - pos) {
          ok = false;
          break;
        }
        ok = add_nal(payload.subspan(pos, size));
        pos += size;
      }
      ok = ok && pos > 1;
    } else if (type == kFuA && payload.size() > 2) {
      //  FU indicator (F, NRI, type 28), FU header (S, E, R, original type), fragment.
      uint8_t fu = payload[1];
      bool start = (fu & 0x80) != 0, end = (fu & 0x40) != 0;
      auto fragment = payload.subspan(2);
      if (start && !in_fu_) {
        uint8_t header = static_cast<uint8_t>((payload[0] & 0xE0) | (fu & 0x1F));
        uint8_t nal_header[] = {header};
        // Parameter sets never come fragmented from WebRTC senders; add_nal would keep a
        // fragmented one truncated, so refuse it.
        uint8_t t = fu & 0x1F;
        ok = t != kNalSps && t != kNalPps && t != 0 && t < kStapA && add_nal(nal_header) &&
             buffer_.size() + fragment.size() <= kMaxFrameBytes;
        in_fu_ = ok;
      } else if (!start && in_fu_) {
        ok = buffer_.size() + fragment.size() <= kMaxFrameBytes;
      }
      if (ok) {
        buffer_.insert(buffer_.end(), fragment.begin(), fragment.end());
        if (end) in_fu_ = false;
      }
    }
  }
  if (!ok) valid_ = false;
  return ok;
}

std::span<const uint8_t> H264Depacketizer::end_frame() {
  if (!valid_ || in_fu_ || buffer_.empty()) return {};
  if (has_sps_ || has_pps_) {
    extradata_.clear();
    if (!sps_.empty() && !pps_.empty()) {
      append_start_code(extradata_);
      extradata_.insert(extradata_.end(), sps_.begin(), sps_.end());
      append_start_code(extradata_);
      extradata_.insert(extradata_.end(), pps_.begin(), pps_.end());
    }
  }
  keyframe_ = has_idr_ && !sps_.empty() && !pps_.empty();
  if (keyframe_ && !(has_sps_ && has_pps_)) {
    // An IDR sent without its parameter sets: put the known ones in front so it stands alone.
    output_.assign(extradata_.begin(), extradata_.end());
    output_.insert(output_.end(), buffer_.begin(), buffer_.end());
    return output_;
  }
  return buffer_;
}

}  // namespace parlor::egress
