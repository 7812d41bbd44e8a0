#pragma once
// The Egress service's runtime state for one egress (internal to service/egress_*.cpp).
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/storage/s3_upload.hpp"
#include "egress/composite.hpp"
#include "egress/track_recorder.hpp"
#include "service/egress_service.hpp"
#include "signal/recording_taps.hpp"

namespace parlor::service {

// The worker's sink for one tap: hands packets and sender reports to the recorder's tap, and
// tells the service when the room let go of the tap.
class TapAdapter : public signal::TapSink {
 public:
  TapAdapter(egress::RecorderTap& tap, std::function<void(const std::string&)> on_detached)
      : tap_(tap), on_detached_(std::move(on_detached)) {}
  bool send_rtp(std::span<const uint8_t> plain) override { return tap_.send_rtp(plain); }
  void sender_report(const rtc::rtcp::SenderInfo& info) override { tap_.sender_report(info); }
  bool take_keyframe_request() override { return tap_.take_keyframe_request(); }
  void detached(const std::string& reason) override { on_detached_(reason); }

 private:
  egress::RecorderTap& tap_;
  std::function<void(const std::string&)> on_detached_;
};

struct EgressService::TrackFile {
  std::string tap_id;  // unique in its room: egress id, track sid, sequence
  std::string track_sid, identity;
  signal::TapFormat format;
  std::filesystem::path path;  // the file it writes (final name; ".part" while recording)
  egress::Container container = egress::Container::kAuto;
  std::unique_ptr<egress::TrackRecorder> recorder;  // set by open_track (job)
  std::unique_ptr<TapAdapter> adapter;
  // Guarded by the Recording's mutex.
  bool open = false;       // the recorder runs (poll may read it)
  bool attached = false;   // the tap is on the track (worker)
  bool detached = false;   // the tap is gone, or never came
  bool finishing = false;  // finish() runs or ran: poll leaves the recorder alone
  bool finished = false;
  egress::RecordingResult result;
};

struct EgressService::Recording {
  std::string egress_id, room_name;
  Kind kind = Kind::kTrack;
  // What the egress produces: the track's file (kTrack) or the composite's.
  std::filesystem::path relative, final_path;
  // Uploaded there once finished (the object key is `relative`); the local file is deleted after
  // a confirmed upload unless egress.s3.keep_local.
  std::optional<storage::S3Target> upload;
  egress::CompositeOptions composite;  // size, rate, audio/video only; inputs and layout at the end
  std::filesystem::path work_dir;      // composites: the intermediate files
  std::mutex mutex;
  std::vector<std::shared_ptr<TrackFile>> files;
  size_t opening = 0;  // files whose recorder is being opened (a job queued or running)
  size_t sequence = 0;
  bool stopping = false, finalizing = false;
  std::string stop_reason;
};

}  // namespace parlor::service
