#pragma once
// Twirp `livekit.RoomService` (spec §6.2): every method, JSON or protobuf, with LiveKit's grant
// checks. Registered on the media server's router under /twirp/livekit.RoomService/.
#include <functional>

#include "common/boundary.hpp"
#include "common/config/media_config.hpp"
#include "common/http/http_types.hpp"
#include "service/room_manager.hpp"

namespace parlor::service {

class RoomService {
 public:
  RoomService(const config::MediaConfig& config, RoomManager& rooms)
      : config_(config), rooms_(rooms) {}
  // Never throws: every failure is a Twirp error (unexpected ones `internal`, 500).
  http::Response handle(const http::Request& request);
  // Told about each unexpected exception (not a TwirpError or BadInput) a method threw.
  using CaughtHandler = std::function<void(const http::Request& request, const Caught& caught)>;
  void set_caught_handler(CaughtHandler handler) { on_caught_ = std::move(handler); }

 private:
  const config::MediaConfig& config_;
  RoomManager& rooms_;
  CaughtHandler on_caught_;
};

}  // namespace parlor::service
