#pragma once
// A room composite made after the recorded tracks are closed: every participant's video side by
// side (a grid for more than two) and every audio track mixed, each input placed on the room's
// timeline by its offset, encoded to one MP4 (H.264 + AAC) or WebM (VP8 + Opus) file written as
// "<final>.part" and renamed when complete.
//
// Threading: blocking; run it on a job thread, never on a worker or an HTTP thread.
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
};

// Blocking. Errors are returned in RecordingResult::error (no exception).
RecordingResult composite(const CompositeOptions& options);

}  // namespace parlor::egress
