#pragma once
// Twirp `livekit.RoomService` (spec §6.2): every method, JSON or protobuf, with LiveKit's grant
// checks. Registered on the media server's router under /twirp/livekit.RoomService/.
#include "common/config/media_config.hpp"
#include "common/http/http_types.hpp"
#include "service/room_manager.hpp"

namespace parlor::service {

class RoomService {
 public:
  RoomService(const config::MediaConfig& config, RoomManager& rooms)
      : config_(config), rooms_(rooms) {}
  http::Response handle(const http::Request& request);

 private:
  const config::MediaConfig& config_;
  RoomManager& rooms_;
};

}  // namespace parlor::service
