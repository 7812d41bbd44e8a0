#pragma once
// A room composite made after the recorded tracks are closed: every participant's video side by
// side (a grid for more than two) and every audio track mixed, each input placed on the room's
// timeline by its offset, encoded to one MP4 (H.264 + AAC) or WebM (VP8 + Opus) file written as
// "<final>.part" and renamed when complete.
//
// Threading: blocking; run it on a job thread, never on a worker or an HTTP thread.
//
// How: the `ffmpeg` CLI runs as a child process (posix_spawnp with an argument vector, no shell)
// with one filter graph: a black canvas, every video scaled into its cell and overlaid from its
// offset on, every audio delayed by its offset and mixed. Why a child rather than libavfilter in
// process: a decoder or encoder crash on a damaged input cannot take the media server down with
// it, the encoder's memory (x264 look-ahead) goes away with the process, the run is bounded and
// killable (SIGKILL on timeout or cancel), and the command line is easy to reproduce by hand.
// The inputs' durations are read in-process with libavformat.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "egress/track_recorder.hpp"

namespace parlor::egress {

struct CompositeInput {
  std::filesystem::path path;  // a finished TrackRecorder file
  bool video = false;
  std::string participant;     // identity, for the layout's order
  int64_t offset = 0;          // ns after the composite's start at which this input begins
};

struct CompositeOptions {
  std::vector<CompositeInput> inputs;
  std::filesystem::path final_path;
  Container container = Container::kMp4;  // kMp4 or kWebm
  std::string layout = "grid";            // LiveKit layout names; unknown ones fall back to grid
  bool audio_only = false, video_only = false;
  int width = 1280, height = 720, framerate = 30;
  int64_t duration = 0;  // ns; the room's recorded time (0: the longest input)
  // Added for the implementation (additive; defaults keep the original behaviour):
  std::string ffmpeg = "ffmpeg";           // the CLI to run (looked up in PATH)
  int64_t timeout = 0;                     // ns; 0: 120 s + 10 × the output's duration
  const std::atomic<bool>* cancel = nullptr;  // set to true to kill the run (error "cancelled")
};

// Blocking. Errors are returned in RecordingResult::error (no exception); a failed run leaves no
// output file. On success: path, size, duration (of the written file); started_at/ended_at are the
// wall times the compositing ran, first_frame_ntp 0, frames the number of inputs used.
RecordingResult composite(const CompositeOptions& options);

// The media duration (ns) of a file as libavformat reads it (0 when unknown or unreadable).
int64_t media_duration(const std::filesystem::path& path);

}  // namespace parlor::egress
