#pragma once
// Recording one forwarded track to a file, without a network and without transcoding.
//
// The media worker feeds a recording exactly as it feeds a subscriber: a hidden DownTrack whose
// RtpSink is the recorder's tap, so the recorder receives the SFU's munged stream (one SSRC,
// sequence numbers and timestamps continuous across simulcast switches, video starting at a
// keyframe). The tap copies each packet into a bounded, preallocated single-producer ring and
// returns at once: the worker never blocks, locks or allocates for a recording. The recorder's
// own thread drains the ring, reassembles frames (VP8, H.264, Opus), drops what a gap has
// damaged until the next keyframe (and asks for one through the tap), and muxes with
// libavformat into "<final>.part", renamed to its final name only when the file is complete.
//
// Threading: the tap's producer side (send_rtp, sender_report, take_keyframe_request) on the
// worker thread; everything else on the thread that owns the TrackRecorder (a control thread).
//
// Implementation notes (src/egress/track_recorder.cpp and the files it uses):
// * The ring (packet_ring.hpp) holds `ring_packets` slots of UdpSocket::kMaxDatagram bytes,
//   preallocated (≈3 MB at the default 2048); sender reports travel in it too. The recorder's
//   thread polls it every 5 ms: the worker never signals, locks or allocates.
// * Reordering and loss: frame_assembler.hpp (a 128-packet window; a hole is given up after
//   150 ms or when the window is full). Depacketizers: vp8_/h264_/opus_depacketizer.hpp.
// * What a crash leaves, per container: muxer.hpp (WebM/Matroska clusters ≤ 1 s, fragmented MP4,
//   Ogg pages: the .part file plays up to the last one written).
// * finish(): nothing received → no file, empty path, no error. A write error (disk full,
//   EIO) → `error` set, the `.part` file is kept under its .part name (it holds the valid
//   prefix; the caller decides to keep or delete it) and `path` names it. Otherwise renamed.
// * started_at / ended_at are wall-clock times at which the first / last frame was written;
//   duration is media time from the RTP timestamps (first frame to the end of the last).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "rtc/codecs/codecs.hpp"
#include "rtc/rtcp/rtcp_packet.hpp"
#include "rtc/transport/webrtc_transport.hpp"

namespace parlor::egress {

// The container a track is written in. kAuto: WebM for VP8, MP4 for H.264, Ogg for Opus
// (LiveKit's track egress); kMatroska keeps any codec (the composite's intermediate files).
enum class Container { kAuto, kWebm, kMp4, kOgg, kMatroska };

// What the recorder receives: the codec and payload type the DownTrack sends under, and for
// audio the RED payload type to unwrap (0 = none).
struct TrackFormat {
  rtc::Codec codec = rtc::Codec::kUnknown;
  bool video = false;
  uint8_t payload_type = 0;
  uint8_t red_payload_type = 0;
  uint32_t clock_rate = 0;  // 90000 video, 48000 Opus
};

// The worker's end of a recording. Producer side: the worker thread only.
class RecorderTap : public rtc::RtpSink {
 public:
  ~RecorderTap() override = default;
  // Copies the packet into the ring; false (and counted as dropped) when the ring is full or the
  // packet is larger than a slot. Never blocks, never allocates.
  bool send_rtp(std::span<const uint8_t> plain) override = 0;
  // The DownTrack's sender report for the recorded stream (publisher NTP time ↔ RTP timestamp in
  // the recorded numbering): what lines audio and video of one participant up in a composite.
  virtual void sender_report(const rtc::rtcp::SenderInfo& info) = 0;
  // True once after the recorder asked for a keyframe (a gap damaged a picture, or the file
  // starts): the worker then asks the publisher (UpTrack::request_keyframe).
  virtual bool take_keyframe_request() = 0;
};

struct RecordingResult {
  std::filesystem::path path;  // the final file (absent when nothing was written)
  uint64_t size = 0;           // bytes
  int64_t started_at = 0;      // Unix ns of the first frame written (0: none)
  int64_t ended_at = 0;        // Unix ns of the last frame written
  int64_t duration = 0;        // ns
  // Publisher NTP time (Unix ns) of the first frame written, from the sender reports; 0 when no
  // report arrived in time. Compositing aligns tracks with it.
  int64_t first_frame_ntp = 0;
  std::string error;           // empty on success
  uint64_t frames = 0, dropped_packets = 0, damaged_frames = 0;
};

class TrackRecorder {
 public:
  struct Options {
    std::filesystem::path final_path;  // written as final_path + ".part" until finish()
    Container container = Container::kAuto;
    TrackFormat format;
    size_t ring_packets = 2048;  // the tap's bound (packets), preallocated
    std::string label;           // for logs: egress id, room, track
  };
  // Opens the output and starts the recorder's thread. Throws parlor::BadInput for a codec the
  // container cannot hold and parlor::InternalError when the file cannot be created.
  static std::unique_ptr<TrackRecorder> start(Options options);
  virtual ~TrackRecorder() = default;
  // The worker's end; valid until the TrackRecorder is destroyed. Detach it from the DownTrack
  // (on the worker) before calling finish().
  virtual RecorderTap& tap() = 0;
  // Drains the ring, writes the trailer, renames the file to its final name. Blocks until done;
  // idempotent (later calls return the same result).
  virtual RecordingResult finish() = 0;
  // While running: frames written so far, and the error that stopped the recording early (disk
  // full, unwritable), if any; the recording then ends with that error.
  virtual uint64_t frames() const = 0;
  virtual std::optional<std::string> failure() const = 0;
};

}  // namespace parlor::egress
