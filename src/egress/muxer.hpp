#pragma once
// One track into one file with libavformat, no transcoding. The file is opened at construction
// (so an unwritable path fails the start of the recording); the header is written with the first
// frame, because the muxers need the picture size (VP8: from the keyframe header; H.264: from the
// SPS, read by libavcodec's parser) and the Opus channel count.
//
// What survives a crash (the process dies before finish()):
// * WebM / Matroska: clusters of at most kClusterMs are written out as they close, with the
//   segment and cluster sizes left "unknown": the prefix up to the last closed cluster plays
//   (ffmpeg, Chromium, VLC read it; `ffmpeg -i x.part -c copy fixed.webm` adds the cues).
// * MP4: fragmented (empty moov up front, a fragment per keyframe or per kFragmentUs): every
//   complete fragment plays.
// * Ogg: every flushed page (at most about one second each) plays.
// Every packet is flushed to the file descriptor (flush_packets) as the muxer emits it.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "egress/frame_assembler.hpp"
#include "egress/track_recorder.hpp"

struct AVFormatContext;
struct AVPacket;

namespace parlor::egress {

// kAuto resolved by codec; throws parlor::BadInput when the container cannot hold the codec.
Container resolve_container(Container container, const TrackFormat& format);
// ".webm", ".mp4", ".ogg", ".mkv"
const char* container_extension(Container container);

class Muxer {
 public:
  static constexpr int kClusterMs = 1000;
  static constexpr int64_t kFragmentUs = 1'000'000;

  // Creates (truncates) `path`; throws parlor::InternalError when it cannot, BadInput for a codec
  // the container cannot hold.
  Muxer(const std::filesystem::path& path, Container container, const TrackFormat& format);
  ~Muxer();
  Muxer(const Muxer&) = delete;
  Muxer& operator=(const Muxer&) = delete;

  // Writes one frame; false once writing failed (error() says why) — later frames are ignored.
  // Frames whose timestamp does not advance are skipped (counted), never written out of order.
  bool write(const EncodedFrame& frame);
  // Writes the trailer and closes the file; false on a write error. Idempotent.
  bool close();

  bool started() const { return header_written_; }
  const std::string& error() const { return error_; }
  uint64_t frames() const { return frames_; }
  uint64_t skipped() const { return skipped_; }
  // Media time from the first frame to the end of the last one, in ns.
  int64_t duration_ns() const;
  // The first frame's RTP timestamp (unwrapped), valid once started().
  uint64_t first_timestamp() const { return first_ts_; }

 private:
  bool write_header(const EncodedFrame& first);
  bool fail(const std::string& what, int averror);

  TrackFormat format_;
  Container container_;
  AVFormatContext* ctx_ = nullptr;
  AVPacket* packet_ = nullptr;
  bool header_written_ = false, closed_ = false, failed_ = false;
  std::string error_;
  uint64_t first_ts_ = 0;
  int64_t last_pts_ = -1, last_duration_ = 0;  // in clock_rate units
  uint64_t frames_ = 0, skipped_ = 0;
};

}  // namespace parlor::egress
