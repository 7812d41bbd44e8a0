#pragma once
// Turns the tap's RTP packets back into whole encoded frames, on the recorder's thread.
//
// 1. Reordering: packets are copied into a small window of slots keyed by their (64-bit
//    unwrapped) sequence number and released in order. A missing packet is waited for until the
//    window is full or the oldest waiting packet is `max_wait` old; then it counts as lost.
//    Late packets (behind what was released) and duplicates are dropped. At the start nothing is
//    released until kStartHold packets are buffered or the first is max_wait old, so a stream
//    whose first packets arrive out of order still starts at its first packet.
// 2. Framing (video): a frame is the packets of one RTP timestamp up to the marker bit. A loss
//    inside or before a frame damages it; a damaged frame is dropped, and so is every frame after
//    it until the next keyframe, so nothing that would decode wrongly is written. The assembler
//    then asks for a keyframe (take_keyframe_request). The first frame written is a keyframe.
//    Audio: every Opus packet is a frame; a loss only leaves a gap in the timeline.
// Payload-less packets (padding the SFU sends for bandwidth probing) are skipped: they are not
// media and not a loss.
#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "egress/h264_depacketizer.hpp"
#include "egress/opus_depacketizer.hpp"
#include "egress/track_recorder.hpp"
#include "egress/vp8_depacketizer.hpp"
#include "rtc/net/udp_socket.hpp"
#include "rtc/rtp/rtp_packet.hpp"

namespace parlor::egress {

struct EncodedFrame {
  std::span<const uint8_t> data;   // valid during on_frame
  uint64_t timestamp = 0;          // RTP timestamp, unwrapped to 64 bits
  bool keyframe = false;           // video: decodable on its own (always true for audio)
  uint32_t samples = 0;            // audio: duration in 48 kHz samples
  bool stereo = false;             // audio: the Opus TOC's s bit
  int width = 0, height = 0;       // VP8 keyframes: from the frame header
  std::span<const uint8_t> extradata;  // H.264: Annex-B SPS + PPS (empty until known)
};

class FrameAssembler {
 public:
  using Clock = std::chrono::steady_clock;
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void on_frame(const EncodedFrame& frame) = 0;
  };
  struct Stats {
    uint64_t lost_packets = 0, late_packets = 0, invalid_packets = 0;
    uint64_t damaged_frames = 0;  // dropped: damaged, or waiting for a keyframe after damage
    uint64_t frames = 0;          // handed to the sink
  };
  static constexpr size_t kDefaultWindow = 128;  // ~0.5 s of 720p video, 2.5 s of Opus
  static constexpr std::chrono::milliseconds kDefaultMaxWait{150};
  static constexpr size_t kStartHold = 8;

  // Throws parlor::BadInput for a format it cannot depacketize.
  FrameAssembler(const TrackFormat& format, Sink& sink, size_t window = kDefaultWindow,
                 std::chrono::milliseconds max_wait = kDefaultMaxWait);

  // One RTP packet (copied). Packets of another SSRC than the first are ignored (counted invalid).
  void push(std::span<const uint8_t> packet, Clock::time_point now);
  // Gives up on packets missing for longer than max_wait; call regularly.
  void poll(Clock::time_point now);
  // End of the stream: releases everything buffered; an unfinished frame is dropped.
  void flush();
  // True once after a loss damaged the video (and at the start): ask the publisher for one.
  bool take_keyframe_request() {
    bool r = keyframe_request_;
    keyframe_request_ = false;
    return r;
  }
  const Stats& stats() const { return stats_; }

 private:
  struct Slot {
    bool used = false;
    uint16_t size = 0;
    uint64_t seq = 0;
    Clock::time_point arrival;
    std::array<uint8_t, rtc::UdpSocket::kMaxDatagram> bytes;
  };
  void release_next();  // releases slot next_ (or records its loss) and advances
  void drain();         // releases the in-order run at next_
  void on_packet(std::span<uint8_t> bytes, bool gap_before);
  void on_video(const rtc::RtpPacketView& p, bool gap_before);
  void on_audio(const rtc::RtpPacketView& p, bool gap_before);
  void end_video_frame();
  void damage();

  const TrackFormat format_;
  Sink& sink_;
  const std::chrono::milliseconds max_wait_;
  std::vector<Slot> slots_;
  size_t buffered_ = 0;
  bool started_ = false, gap_pending_ = false, holding_ = true;
  Clock::time_point first_arrival_;
  uint64_t next_ = 0;
  uint32_t ssrc_ = 0;
  rtc::SequenceUnwrapper seq_unwrapper_;
  rtc::TimestampUnwrapper ts_unwrapper_;

  // Video frame state.
  Vp8Depacketizer vp8_;
  H264Depacketizer h264_;
  OpusDepacketizer opus_;
  bool in_frame_ = false, frame_damaged_ = false, need_keyframe_ = true;
  bool keyframe_request_ = true;
  uint32_t frame_ts_ = 0;
  Stats stats_;
};

}  // namespace parlor::egress
