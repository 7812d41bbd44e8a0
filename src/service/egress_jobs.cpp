// The Egress service's recording runtime: a recorder per track (opened on a job thread), its
// tap on the media worker, finishing when the tap is let go, and the egress's end (the track's
// file, or the composite of the intermediate files).
//
//   worker: begin_track ──job──► open_track ──worker──► attach_tap ... tap detached (stop,
//   unpublish, leave, room close) ──job──► finish_track ──► maybe_finalize ──job──► finalize
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/errors.hpp"
#include "service/egress_files.hpp"
#include "service/egress_recording.hpp"
#include "service/live_rooms.hpp"

namespace parlor::service {

namespace fs = std::filesystem;

namespace {
// Intermediate files are Matroska whatever the codec; the composite reads any of them.
constexpr const char* kIntermediateExtension = ".mkv";

std::string file_label(const std::string& egress_id, const std::string& room, const std::string& track) {
  return egress_id + " room=" + room + " track=" + track;
}

livekit::FileInfo file_info(const fs::path& root, const egress::RecordingResult& r) {
  livekit::FileInfo f;
  // The filename is relative to the recordings directory (what the app resolves inside its
  // own); the location is the absolute path.
  f.set_filename(r.path.lexically_relative(root).string());
  f.set_location(r.path.string());
  f.set_size(static_cast<int64_t>(r.size));
  f.set_duration(r.duration);
  f.set_started_at(r.started_at);
  f.set_ended_at(r.ended_at);
  return f;
}

std::string content_type_of(const fs::path& path) {
  auto ext = path.extension().string();
  if (ext == ".mp4") return "video/mp4";
  if (ext == ".webm") return "video/webm";
  if (ext == ".ogg") return "audio/ogg";
  if (ext == ".mkv") return "video/x-matroska";
  return "application/octet-stream";
}

// Job thread: the egress's file is complete; with an upload target it goes to the bucket first
// (blocking, retried inside upload_file). A confirmed upload names the object in `location` and
// removes the local file (unless keep_local); a failed one keeps the local file, which `location`
// then names, and says so in `details` with backup_storage_used (nothing recorded is lost).
void complete_egress(EgressRegistry& registry, spdlog::logger& log, const config::EgressS3Config& s3,
                     const EgressService::Recording& recording, livekit::FileInfo file) {
  if (!recording.upload) {
    registry.complete(recording.egress_id, {file});
    return;
  }
  const fs::path local = file.location();
  auto uploaded = storage::upload_file(*recording.upload, local, recording.relative.generic_string(),
                                       content_type_of(local));
  if (!uploaded.ok) {
    log.warn("egress {}: upload of {} failed ({} attempts): {}; the file stays local",
             recording.egress_id, local.string(), uploaded.attempts, uploaded.error);
    registry.complete(recording.egress_id, {file},
                      "upload to bucket " + recording.upload->bucket + " failed: " + uploaded.error +
                          "; the recording is kept at " + local.string(),
                      true);
    return;
  }
  log.info("egress {}: uploaded {} to {} ({} bytes, {} requests)", recording.egress_id, local.string(),
           uploaded.location, uploaded.size, uploaded.attempts);
  file.set_location(uploaded.location);
  if (!s3.keep_local) {
    std::error_code ec;
    fs::remove(local, ec);
  }
  registry.complete(recording.egress_id, {file});
}
}  // namespace

void EgressService::post_worker(const std::string& room, std::function<void()> work) {
  std::lock_guard lock(live_mutex_);
  if (live_) live_->post(room, std::move(work));  // dropped unrun when the worker is stopping
}

std::shared_ptr<EgressService::Recording> EgressService::find(const std::string& egress_id) {
  std::lock_guard lock(mutex_);
  auto it = recordings_.find(egress_id);
  return it == recordings_.end() ? nullptr : it->second;
}

void EgressService::forget(const std::string& egress_id) {
  {
    std::lock_guard lock(mutex_);
    recordings_.erase(egress_id);
  }
  forgotten_.notify_all();
}

void EgressService::job(const std::shared_ptr<Recording>& recording, std::function<void()> work) {
  auto guarded_work = [this, recording, work = std::move(work)] {
    if (auto caught = guarded(work)) {
      if (on_caught_) on_caught_("egress_job", *caught);
      fail(recording, "internal error: " + caught->message);
    }
  };
  if (!jobs_.try_post(guarded_work)) {
    log_.error("egress {}: the job queue is full", recording->egress_id);
    registry_.fail(recording->egress_id, "the server's recording jobs are overloaded");
  }
}

void EgressService::fail(const std::shared_ptr<Recording>& recording, const std::string& error) {
  if (registry_.fail(recording->egress_id, error)) {
    log_.warn("egress {} failed: {}", recording->egress_id, error);
  }
  begin_stop(recording, error);
}

// Worker thread.
void EgressService::begin_track(const std::shared_ptr<Recording>& recording,
                                signal::Participant& publisher, signal::PublishedTrack& track) {
  auto format = signal::RecordingTaps::format_of(track);
  if (!format) return;  // no media side yet; a room composite picks it up when it is published
  auto file = std::make_shared<TrackFile>();
  file->track_sid = track.info.sid();
  file->identity = publisher.identity();
  file->format = *format;
  {
    std::lock_guard lock(recording->mutex);
    if (recording->stopping) return;
    size_t n = recording->sequence++;
    file->tap_id = recording->egress_id + "/" + file->track_sid + "/" + std::to_string(n);
    if (recording->kind == Kind::kTrack) {
      file->path = recording->final_path;
      file->container = egress::Container::kAuto;
    } else {
      file->path = recording->work_dir /
                   (std::to_string(n) + "-" + file->track_sid + kIntermediateExtension);
      file->container = egress::Container::kMatroska;
    }
    recording->files.push_back(file);
    ++recording->opening;
  }
  job(recording, [this, recording, file] { open_track(recording, file); });
}

// Job thread: opening the file is I/O, so it never runs on the worker.
void EgressService::open_track(std::shared_ptr<Recording> recording, std::shared_ptr<TrackFile> file) {
  std::string error;
  try {
    prepare_output(root_, file->path.lexically_relative(root_));
    egress::TrackRecorder::Options o;
    o.final_path = file->path;
    o.container = file->container;
    o.format.codec = file->format.codec;
    o.format.video = file->format.video;
    o.format.payload_type = file->format.payload_type;
    o.format.clock_rate = file->format.clock_rate;
    o.label = file_label(recording->egress_id, recording->room_name, file->track_sid);
    file->recorder = egress::TrackRecorder::start(std::move(o));
    file->adapter = std::make_unique<TapAdapter>(
        file->recorder->tap(), [this, recording, file](const std::string& reason) {
          // Worker thread, inside the room: only note it and leave the blocking part to a job.
          {
            std::lock_guard lock(recording->mutex);
            file->detached = true;
          }
          log_.info("egress {}: track {} tap detached ({})", recording->egress_id, file->track_sid, reason);
          job(recording, [this, recording, file] { finish_track(recording, file); });
        });
  } catch (const std::exception& e) {
    error = "cannot record track " + file->track_sid + " to " + file->path.string() + ": " + e.what();
  }
  {
    std::lock_guard lock(recording->mutex);
    --recording->opening;
    if (error.empty()) {
      file->open = true;
    } else {
      file->detached = file->finished = true;
    }
  }
  if (!error.empty()) {
    fail(recording, error);
    maybe_finalize(recording);
    return;
  }
  post_worker(recording->room_name, [this, recording, file] { attach_tap(recording, file); });
}

// Worker thread.
void EgressService::attach_tap(std::shared_ptr<Recording> recording, std::shared_ptr<TrackFile> file) {
  bool stopping;
  {
    std::lock_guard lock(recording->mutex);
    stopping = recording->stopping;
  }
  signal::Room* room = nullptr;
  {
    std::lock_guard lock(live_mutex_);
    if (live_) room = live_->find_room(recording->room_name);
  }
  signal::PublishedTrack* track = nullptr;
  if (room && !stopping) {
    for (auto [p, t] : room->published_tracks()) {
      if (t->info.sid() == file->track_sid) track = t;
    }
  }
  if (track && room->recording_taps().attach(file->tap_id, *track, *file->adapter,
                                             std::chrono::steady_clock::now())) {
    std::lock_guard lock(recording->mutex);
    file->attached = true;
    return;
  }
  // The track went (or the egress stopped) while its file was being opened.
  file->adapter->detached(stopping ? "the egress stopped" : "the track is gone");
}

// Job thread: TrackRecorder::finish() blocks until the file is complete.
void EgressService::finish_track(std::shared_ptr<Recording> recording, std::shared_ptr<TrackFile> file) {
  {
    std::lock_guard lock(recording->mutex);
    if (file->finishing) return;
    file->finishing = true;
  }
  egress::RecordingResult result = file->recorder->finish();
  log_.info("egress {}: track {} finished: {} frames, {} bytes{}{}", recording->egress_id,
            file->track_sid, result.frames, result.size, result.error.empty() ? "" : ", error: ",
            result.error);
  bool track_egress_over = false;
  {
    std::lock_guard lock(recording->mutex);
    file->result = std::move(result);
    file->finished = true;
    // A track egress (and a track composite) ends with its tracks; a room composite goes on.
    if (recording->kind != Kind::kRoomComposite) {
      track_egress_over = std::all_of(recording->files.begin(), recording->files.end(),
                                      [](const auto& f) { return f->detached; });
    }
  }
  if (track_egress_over) begin_stop(recording, "the track ended");
  maybe_finalize(recording);
}

void EgressService::begin_stop(const std::shared_ptr<Recording>& recording, const std::string& reason) {
  {
    std::lock_guard lock(recording->mutex);
    if (recording->stopping) return;
    recording->stopping = true;
    recording->stop_reason = reason;
  }
  registry_.ending(recording->egress_id);
  log_.info("egress {} ending: {}", recording->egress_id, reason);
  // The taps leave the tracks on the worker; each detach finishes its file on a job.
  post_worker(recording->room_name, [this, recording, reason] {
    signal::Room* room = nullptr;
    {
      std::lock_guard lock(live_mutex_);
      if (live_) room = live_->find_room(recording->room_name);
    }
    std::vector<std::shared_ptr<TrackFile>> files;
    {
      std::lock_guard lock(recording->mutex);
      files = recording->files;
    }
    for (auto& f : files) {
      bool attached;
      {
        std::lock_guard lock(recording->mutex);
        attached = f->attached && !f->detached;
      }
      if (attached && room) room->recording_taps().detach(f->tap_id, reason);
    }
  });
  maybe_finalize(recording);  // nothing to wait for when it has no tracks
}

void EgressService::maybe_finalize(const std::shared_ptr<Recording>& recording) {
  {
    std::lock_guard lock(recording->mutex);
    if (!recording->stopping || recording->finalizing || recording->opening > 0) return;
    for (const auto& f : recording->files) {
      if (!f->finished) return;
    }
    recording->finalizing = true;
  }
  job(recording, [this, recording] { finalize(recording); });
}

// Job thread: every file is finished; the egress ends.
void EgressService::finalize(const std::shared_ptr<Recording>& recording) {
  std::vector<std::shared_ptr<TrackFile>> files;
  {
    std::lock_guard lock(recording->mutex);
    files = recording->files;
  }
  auto state = registry_.get(recording->egress_id);
  const bool already_ended = !state || EgressRegistry::ended(state->status());
  std::vector<std::shared_ptr<TrackFile>> recorded;
  std::string first_error;
  for (auto& f : files) {
    if (!f->result.error.empty() && first_error.empty()) first_error = f->result.error;
    if (f->result.frames > 0 && !f->result.path.empty()) recorded.push_back(f);
  }
  if (!already_ended) {
    if (recording->kind == Kind::kTrack) {
      if (!first_error.empty()) {
        registry_.fail(recording->egress_id, first_error);
      } else if (recorded.empty()) {
        registry_.abort(recording->egress_id, "no media was recorded (" + recording->stop_reason + ")");
      } else {
        complete_egress(registry_, log_, config_.egress.s3, *recording, file_info(root_, recorded.front()->result));
      }
    } else if (recorded.empty()) {
      registry_.abort(recording->egress_id, first_error.empty()
                                                ? "no media was recorded (" + recording->stop_reason + ")"
                                                : first_error);
    } else {
      finalize_composite(recording, recorded);
    }
  }
  // Whatever became of it, nothing is waiting any more; the recorders go on this thread.
  for (auto& f : files) {
    f->adapter.reset();
    f->recorder.reset();
  }
  forget(recording->egress_id);
  if (auto end = registry_.get(recording->egress_id)) {
    log_.info("egress {} ended: {}{}{}", recording->egress_id, livekit::EgressStatus_Name(end->status()),
              end->error().empty() ? "" : ": ", end->error());
  }
}

void EgressService::finalize_composite(const std::shared_ptr<Recording>& recording,
                                       const std::vector<std::shared_ptr<TrackFile>>& files) {
  // Each input starts on the room's timeline where its first frame was captured: the
  // publisher's NTP time when every input has one (lip sync across participants' clocks is as
  // good as their NTP), else the wall clock at which the recorder wrote it.
  bool ntp = std::all_of(files.begin(), files.end(), [](const auto& f) { return f->result.first_frame_ntp != 0; });
  auto start_of = [ntp](const TrackFile& f) { return ntp ? f.result.first_frame_ntp : f.result.started_at; };
  int64_t origin = INT64_MAX, end = 0;
  for (const auto& f : files) origin = std::min(origin, start_of(*f));
  egress::CompositeOptions options = recording->composite;
  options.final_path = recording->final_path;
  if (auto info = registry_.get(recording->egress_id); info && info->has_room_composite()) {
    if (!info->room_composite().layout().empty()) options.layout = info->room_composite().layout();
  }
  for (const auto& f : files) {
    egress::CompositeInput in;
    in.path = f->result.path;
    in.video = f->format.video;
    in.participant = f->identity;
    in.offset = start_of(*f) - origin;
    end = std::max(end, in.offset + f->result.duration);
    options.inputs.push_back(std::move(in));
  }
  options.duration = end;
  std::string error;
  try {
    prepare_output(root_, recording->relative);
  } catch (const std::exception& e) {
    error = e.what();
  }
  egress::RecordingResult result;
  if (error.empty()) {
    result = egress::composite(options);
    error = result.error;
  }
  if (!error.empty()) {
    // The intermediates stay (under the work directory) so the recording can be recovered.
    registry_.fail(recording->egress_id, "compositing failed: " + error);
    return;
  }
  // FileInfo times are the recorded span on the wall clock (the composite's own are when it ran).
  result.started_at = INT64_MAX;
  result.ended_at = 0;
  for (const auto& f : files) {
    result.started_at = std::min(result.started_at, f->result.started_at);
    result.ended_at = std::max(result.ended_at, f->result.ended_at);
  }
  complete_egress(registry_, log_, config_.egress.s3, *recording, file_info(root_, result));
  std::error_code ec;
  for (const auto& f : files) fs::remove(f->result.path, ec);
  fs::remove_all(recording->work_dir, ec);
}

// Worker thread.
void EgressService::on_track_published(const std::string& room, const std::string& identity,
                                       const std::string& track_sid) {
  std::vector<std::shared_ptr<Recording>> composites;
  {
    std::lock_guard lock(mutex_);
    for (auto& [_, r] : recordings_) {
      if (r->kind == Kind::kRoomComposite && r->room_name == room) composites.push_back(r);
    }
  }
  if (composites.empty()) return;
  signal::Room* live_room = nullptr;
  {
    std::lock_guard lock(live_mutex_);
    if (live_) live_room = live_->find_room(room);
  }
  auto* publisher = live_room ? live_room->find(identity) : nullptr;
  auto* track = publisher ? publisher->track(track_sid) : nullptr;
  if (!track) return;
  const bool video = track->info.type() == livekit::VIDEO;
  for (auto& r : composites) {
    if ((video && r->composite.audio_only) || (!video && r->composite.video_only)) continue;
    bool recording_it = false;
    {
      std::lock_guard lock(r->mutex);
      for (const auto& f : r->files) recording_it = recording_it || (f->track_sid == track_sid && !f->detached);
    }
    if (!recording_it) begin_track(r, *publisher, *track);
  }
}

void EgressService::on_room_finished(const std::string& room) {
  std::vector<std::shared_ptr<Recording>> ending;
  {
    std::lock_guard lock(mutex_);
    for (auto& [_, r] : recordings_) {
      if (r->room_name == room) ending.push_back(r);
    }
  }
  for (auto& r : ending) begin_stop(r, "the room closed");
}

// Control thread. frames() and failure() are read only while no job finishes that recorder.
void EgressService::poll() {
  std::vector<std::shared_ptr<Recording>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [_, r] : recordings_) all.push_back(r);
  }
  for (auto& r : all) {
    bool wrote = false;
    std::optional<std::string> failure;
    {
      std::lock_guard lock(r->mutex);
      for (const auto& f : r->files) {
        if (!f->open || f->finishing || !f->recorder) continue;
        if (!failure) failure = f->recorder->failure();
        wrote = wrote || f->recorder->frames() > 0;
      }
    }
    if (failure) {
      fail(r, "recording failed: " + *failure);
    } else if (wrote) {
      registry_.activate(r->egress_id);
    }
  }
}

void EgressService::stop(std::chrono::milliseconds timeout) {
  std::vector<std::shared_ptr<Recording>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [_, r] : recordings_) all.push_back(r);
  }
  for (auto& r : all) begin_stop(r, "the server is stopping");
  {
    std::unique_lock lock(mutex_);
    forgotten_.wait_for(lock, timeout, [this] { return recordings_.empty(); });
  }
  jobs_.stop();
}

}  // namespace parlor::service
