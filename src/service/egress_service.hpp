#pragma once
// Twirp `livekit.Egress` (spec §6.3, issue 12): server-side recording without a browser.
//
// StartTrackEgress writes one track to a file as it arrives (VP8 → WebM, H.264 → MP4, Opus →
// Ogg); StartTrackCompositeEgress and StartRoomCompositeEgress record each track into an
// intermediate Matroska file under a hidden work directory and composite them into one MP4 (or
// WebM) file when the egress stops or the room ends. The recordings are fed by recording taps
// (signal/recording_taps.hpp): hidden DownTracks on the room's media worker whose sink is the
// recorder's tap (egress/track_recorder.hpp).
//
// Threads:
//   * HTTP threads (handle): checks, then work posted to the media worker (LiveRooms::post),
//     which answers the request; no control thread waits on the worker.
//   * The worker: finds tracks, registers the egress, attaches and detaches taps.
//   * A small job pool: everything that blocks — opening files (TrackRecorder::start),
//     TrackRecorder::finish(), egress::composite(), deleting intermediates.
//   * A control timer (poll): ACTIVE at the first frame written, FAILED when a recorder fails.
// Status, bounds and webhooks: service/egress_registry.hpp.
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/boundary.hpp"
#include "common/config/media_config.hpp"
#include "common/http/http_server.hpp"
#include "common/http/respond_once.hpp"
#include "common/worker_pool.hpp"
#include "egress/track_recorder.hpp"
#include "service/egress_registry.hpp"
#include "service/room_manager.hpp"
#include "service/webhook_notifier.hpp"

namespace spdlog {
class logger;
}

namespace parlor::signal {
class Room;
class Participant;
struct PublishedTrack;
}  // namespace parlor::signal

namespace parlor::service {

class LiveRooms;

class EgressService {
 public:
  EgressService(const config::MediaConfig& config, RoomManager& rooms, WebhookNotifier& webhooks,
                spdlog::logger& log);
  ~EgressService();  // stop()
  EgressService(const EgressService&) = delete;
  EgressService& operator=(const EgressService&) = delete;

  // The live rooms on the media worker (set after the worker starts; null before and after).
  void set_live_rooms(LiveRooms* live);
  // Never throws; calls `respond` exactly once (like RoomService::handle).
  void handle(const http::Request& request, http::Respond respond);
  using CaughtHandler = std::function<void(const std::string& where, const Caught& caught)>;
  void set_caught_handler(CaughtHandler handler) { on_caught_ = std::move(handler); }

  // Worker thread (LiveRooms): a track was published; room composites of its room record it.
  void on_track_published(const std::string& room, const std::string& identity,
                          const std::string& track_sid);
  // Any thread: the room closed; its egresses end (composites are made now).
  void on_room_finished(const std::string& room);
  // Control thread, a few times a second: ACTIVE at the first frame, FAILED on a recorder error.
  void poll();
  // Ends every egress (taps detached on the worker, files finished, composites made), waiting up
  // to `timeout`; then stops the job pool. Call while the worker still runs.
  void stop(std::chrono::milliseconds timeout = std::chrono::seconds(60));

  EgressRegistry& registry() { return registry_; }
  const std::filesystem::path& recordings_dir() const { return root_; }

  // One track being recorded into one file (a track egress's output, or a composite's input).
  struct TrackFile;
  // One egress's recordings: its tracks, what it produces, and where it is in its lifecycle.
  struct Recording;
  enum class Kind { kTrack, kTrackComposite, kRoomComposite };

 private:
  // --- Twirp (egress_service.cpp) ---
  std::optional<http::Response> dispatch(const http::Request& request,
                                         const http::RespondOnce& reply);
  http::Response error_from_current_exception(const std::string& where);
  // Runs `work` on the worker and answers `reply` with its result or its Twirp error.
  void on_worker(const std::string& room, const http::Request& request, const http::RespondOnce& reply,
                 std::function<http::Response()> work);
  void check_room(const std::string& room_name) const;
  http::Response start_track(const livekit::TrackEgressRequest& request, bool protobuf);
  http::Response start_composite(std::shared_ptr<Recording> recording, livekit::EgressInfo info,
                                 std::vector<std::string> track_sids, bool protobuf);

  // --- Recording runtime (egress_jobs.cpp) ---
  // Worker: records `track` for `recording` (a tap once its file is open).
  void begin_track(const std::shared_ptr<Recording>& recording, signal::Participant& publisher,
                   signal::PublishedTrack& track);
  void open_track(std::shared_ptr<Recording> recording, std::shared_ptr<TrackFile> file);  // job
  void attach_tap(std::shared_ptr<Recording> recording, std::shared_ptr<TrackFile> file);  // worker
  void finish_track(std::shared_ptr<Recording> recording, std::shared_ptr<TrackFile> file);  // job
  // Any thread: the egress stops recording (ENDING), its taps are detached.
  void begin_stop(const std::shared_ptr<Recording>& recording, const std::string& reason);
  void maybe_finalize(const std::shared_ptr<Recording>& recording);  // job or worker
  void finalize(const std::shared_ptr<Recording>& recording);        // job
  void finalize_composite(const std::shared_ptr<Recording>& recording,
                          const std::vector<std::shared_ptr<TrackFile>>& files);
  void fail(const std::shared_ptr<Recording>& recording, const std::string& error);
  // Queues blocking work; a full queue fails the egress rather than growing.
  void job(const std::shared_ptr<Recording>& recording, std::function<void()> work);
  // Runs work on the media worker of `room` (LiveRooms::post).
  void post_worker(const std::string& room, std::function<void()> work);
  std::shared_ptr<Recording> find(const std::string& egress_id);
  void forget(const std::string& egress_id);

  const config::MediaConfig& config_;
  RoomManager& rooms_;
  WebhookNotifier& webhooks_;
  spdlog::logger& log_;
  const std::filesystem::path root_;  // the recordings directory, absolute
  EgressRegistry registry_;
  CaughtHandler on_caught_;
  std::mutex live_mutex_;
  LiveRooms* live_ = nullptr;  // guarded by live_mutex_
  std::mutex mutex_;
  std::condition_variable forgotten_;  // a recording left recordings_ (stop() waits for none)
  std::map<std::string, std::shared_ptr<Recording>> recordings_;  // egress id →, until finalized
  common::WorkerPool jobs_;
};

}  // namespace parlor::service
