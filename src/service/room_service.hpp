#pragma once
// Twirp `livekit.RoomService` (spec §6.2): every method, JSON or protobuf, with LiveKit's grant
// checks. Registered on the media server's router under /twirp/livekit.RoomService/ as an
// asynchronous route: methods on the room registry (CreateRoom, ListRooms, DeleteRoom,
// UpdateRoomMetadata) answer at once on the calling thread; methods on participants post their
// work to the ParticipantDirectory (the media worker) and answer from there, so no control
// thread waits on a worker.
#include <functional>
#include <optional>
#include <string>

#include "common/boundary.hpp"
#include "common/config/media_config.hpp"
#include "common/http/http_server.hpp"
#include "common/http/respond_once.hpp"
#include "service/room_manager.hpp"

namespace parlor::service {

class RoomService {
 public:
  RoomService(const config::MediaConfig& config, RoomManager& rooms)
      : config_(config), rooms_(rooms) {}
  // Never throws. Calls `respond` exactly once, on this thread or on the directory's: every
  // failure is a Twirp error (unexpected ones `internal`, 500, also when the posted work throws),
  // and work the directory drops unrun (it is stopping) is answered `unavailable` (503).
  void handle(const http::Request& request, http::Respond respond);
  // Told about each unexpected exception (not a TwirpError or BadInput) a method threw, with the
  // request's path; called on the thread where it was caught (a control thread or the worker).
  using CaughtHandler = std::function<void(const std::string& path, const Caught& caught)>;
  void set_caught_handler(CaughtHandler handler) { on_caught_ = std::move(handler); }

 private:
  // The answer when it is known at once; nullopt when work was posted that answers `reply`.
  std::optional<http::Response> dispatch(const http::Request& request,
                                         const http::RespondOnce& reply);
  // Runs `work(directory)` on the directory's thread and answers `reply` with its result (or the
  // Twirp error it threw).
  void on_directory(ParticipantDirectory& directory, const std::string& room, const http::Request& request,
                    const http::RespondOnce& reply,
                    std::function<http::Response(ParticipantDirectory&)> work);
  http::Response error_from_current_exception(const std::string& path);

  const config::MediaConfig& config_;
  RoomManager& rooms_;
  CaughtHandler on_caught_;
};

}  // namespace parlor::service
