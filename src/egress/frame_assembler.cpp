#include "egress/frame_assembler.hpp"

#include <cstring>

#include "common/errors.hpp"

namespace parlor::egress {

FrameAssembler::FrameAssembler(const TrackFormat& format, Sink& sink, size_t window,
                               std::chrono::milliseconds max_wait)
    : format_(format),
      sink_(sink),
      max_wait_(max_wait),
      slots_(window < 8 ? 8 : window),
      opus_(format.payload_type, format.red_payload_type) {
  bool ok = format.video ? (format.codec == rtc::Codec::kVp8 || format.codec == rtc::Codec::kH264)
                         : format.codec == rtc::Codec::kOpus;
  if (!ok) throw BadInput("recording: unsupported codec for a " + std::string(format.video ? "video" : "audio") +
                          " track");
  if (format.clock_rate == 0) throw BadInput("recording: clock rate 0");
  keyframe_request_ = format.video;
}

void FrameAssembler::push(std::span<const uint8_t> packet, Clock::time_point now) {
  constexpr size_t kRtpHeader = 12;
  if (packet.size() < kRtpHeader || packet.size() > rtc::UdpSocket::kMaxDatagram) {
    ++stats_.invalid_packets;
    return;
  }
  uint32_t ssrc = (uint32_t{packet[8]} << 24) | (uint32_t{packet[9]} << 16) | (uint32_t{packet[10]} << 8) | packet[11];
  if (started_ && ssrc != ssrc_) {
    ++stats_.invalid_packets;
    return;
  }
  uint64_t seq = seq_unwrapper_.unwrap(static_cast<uint16_t>((packet[2] << 8) | packet[3]));
  if (!started_) {
    started_ = true;
    ssrc_ = ssrc;
    next_ = seq;
    first_arrival_ = now;
  } else if (holding_ && seq < next_ && next_ - seq < slots_.size() / 2) {
    // Nothing released yet: an earlier packet than the first one seen becomes the start, if all
    // buffered packets still fit in the window behind it.
    bool fits = true;
    for (const Slot& s : slots_) fits = fits && (!s.used || s.seq < seq + slots_.size());
    if (fits) next_ = seq;
  }
  if (seq < next_) {  // already given up on, or released: too late
    ++stats_.late_packets;
    return;
  }
  while (seq >= next_ + slots_.size()) release_next();  // no room: the oldest holes are losses
  Slot& slot = slots_[seq % slots_.size()];
  if (slot.used) {  // same sequence number (the window guarantees it): a duplicate
    ++stats_.late_packets;
    return;
  }
  slot.used = true;
  slot.seq = seq;
  slot.size = static_cast<uint16_t>(packet.size());
  slot.arrival = now;
  std::memcpy(slot.bytes.data(), packet.data(), packet.size());
  ++buffered_;
  if (holding_ && buffered_ < kStartHold) return;
  holding_ = false;
  drain();
}

void FrameAssembler::poll(Clock::time_point now) {
  if (buffered_ == 0) return;
  if (holding_) {
    if (now - first_arrival_ < max_wait_) return;
    holding_ = false;
    drain();
  }
  bool expired = false;
  for (const Slot& s : slots_) {
    if (s.used && now - s.arrival >= max_wait_) {
      expired = true;
      break;
    }
  }
  if (!expired) return;
  // Skip the hole(s) in front of the oldest packet, then release what follows in order.
  while (buffered_ > 0 && !slots_[next_ % slots_.size()].used) release_next();
  drain();
}

void FrameAssembler::flush() {
  holding_ = false;
  while (buffered_ > 0) release_next();
  if (format_.video && in_frame_) {
    // The last frame never saw its marker: incomplete.
    in_frame_ = false;
    ++stats_.damaged_frames;
  }
}

void FrameAssembler::release_next() {
  Slot& slot = slots_[next_ % slots_.size()];
  if (slot.used && slot.seq == next_) {
    slot.used = false;
    --buffered_;
    bool gap = gap_pending_;
    gap_pending_ = false;
    on_packet(std::span<uint8_t>(slot.bytes.data(), slot.size), gap);
  } else {
    ++stats_.lost_packets;
    gap_pending_ = true;
  }
  ++next_;
}

void FrameAssembler::drain() {
  while (buffered_ > 0) {
    const Slot& slot = slots_[next_ % slots_.size()];
    if (!slot.used || slot.seq != next_) return;
    release_next();
  }
}

void FrameAssembler::on_packet(std::span<uint8_t> bytes, bool gap_before) {
  auto p = rtc::RtpPacketView::parse(bytes);
  if (!p) {
    ++stats_.invalid_packets;
    if (format_.video) damage();  // a packet of the stream we cannot read: treat it as lost
    return;
  }
  if (format_.video)
    on_video(*p, gap_before);
  else
    on_audio(*p, gap_before);
}

void FrameAssembler::damage() {
  if (in_frame_) frame_damaged_ = true;
  need_keyframe_ = true;
  keyframe_request_ = true;
}

void FrameAssembler::on_video(const rtc::RtpPacketView& p, bool gap_before) {
  if (gap_before) damage();
  auto payload = p.payload();
  if (payload.empty()) return;  // padding only
  if (p.payload_type() != format_.payload_type) {
    ++stats_.invalid_packets;
    damage();
    return;
  }
  if (in_frame_ && p.timestamp() != frame_ts_) {
    // A new picture began before the last one's marker: the marker packet is missing.
    frame_damaged_ = true;
    end_video_frame();
  }
  if (!in_frame_) {
    in_frame_ = true;
    frame_damaged_ = gap_before;
    frame_ts_ = p.timestamp();
    if (format_.codec == rtc::Codec::kVp8)
      vp8_.begin_frame();
    else
      h264_.begin_frame();
  }
  if (!frame_damaged_) {
    bool ok = format_.codec == rtc::Codec::kVp8 ? vp8_.add(payload) : h264_.add(payload);
    if (!ok) {
      ++stats_.invalid_packets;
      frame_damaged_ = true;
    }
  }
  if (p.marker()) end_video_frame();
}

void FrameAssembler::end_video_frame() {
  in_frame_ = false;
  EncodedFrame frame;
  if (!frame_damaged_) {
    if (format_.codec == rtc::Codec::kVp8) {
      frame.data = vp8_.end_frame();
      frame.keyframe = vp8_.keyframe();
      frame.width = vp8_.width();
      frame.height = vp8_.height();
    } else {
      frame.data = h264_.end_frame();
      frame.keyframe = h264_.keyframe();
      frame.extradata = h264_.extradata();
    }
  }
  if (frame.data.empty()) {
    ++stats_.damaged_frames;
    need_keyframe_ = true;
    keyframe_request_ = true;
    return;
  }
  if (need_keyframe_ && !frame.keyframe) {
    // Refers to a picture we lost (or the file has not started yet): undecodable on its own.
    ++stats_.damaged_frames;
    keyframe_request_ = true;
    return;
  }
  need_keyframe_ = false;
  frame.timestamp = ts_unwrapper_.unwrap(frame_ts_);
  ++stats_.frames;
  sink_.on_frame(frame);
}

void FrameAssembler::on_audio(const rtc::RtpPacketView& p, bool gap_before) {
  auto payload = p.payload();
  if (payload.empty()) return;
  auto opus = opus_.depacketize(p.payload_type(), payload);
  if (!opus) {
    ++stats_.invalid_packets;
    return;
  }
  EncodedFrame frame;
  frame.data = opus->data;
  frame.samples = opus->samples;
  frame.stereo = opus->stereo;
  frame.keyframe = true;
  frame.timestamp = ts_unwrapper_.unwrap(p.timestamp());
  ++stats_.frames;
  sink_.on_frame(frame);
}

}  // namespace parlor::egress
