#include "service/room_manager.hpp"

#include "common/encoding.hpp"
#include "service/twirp.hpp"

namespace parlor::service {

namespace {
int64_t unix_now(std::chrono::milliseconds* ms_out = nullptr) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  if (ms_out) *ms_out = std::chrono::duration_cast<std::chrono::milliseconds>(now);
  return std::chrono::duration_cast<std::chrono::seconds>(now).count();
}
}  // namespace

RoomManager::RoomManager(const config::MediaConfig& config, RoomEvents& events)
    : config_(config), events_(events) {}

void RoomManager::check_room_name(const std::string& name) const {
  if (name.empty()) throw TwirpError("invalid_argument", "room name is required");
  if (name.size() > config_.limit.max_room_name_length) {
    throw TwirpError("invalid_argument", "room name is longer than " +
                                             std::to_string(config_.limit.max_room_name_length) +
                                             " bytes");
  }
  for (unsigned char c : name) {
    // Control characters and the stream-id separator would corrupt SDP and signaling fields.
    if (c < 0x20 || c == 0x7f || c == '|') {
      throw TwirpError("invalid_argument", "room name contains a forbidden character");
    }
  }
}

livekit::Room RoomManager::create(const livekit::CreateRoomRequest& req) {
  check_room_name(req.name());
  if (req.metadata().size() > config_.limit.max_metadata_size) {
    throw TwirpError("invalid_argument", "metadata exceeds limit.max_metadata_size");
  }
  livekit::Room started;
  {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(req.name());
    if (it != rooms_.end()) {
      auto& room = it->second.room;
      if (req.empty_timeout()) room.set_empty_timeout(req.empty_timeout());
      if (req.departure_timeout()) room.set_departure_timeout(req.departure_timeout());
      if (req.max_participants()) room.set_max_participants(req.max_participants());
      if (!req.metadata().empty()) room.set_metadata(req.metadata());
      return room;
    }
    if (config_.limit.max_rooms && rooms_.size() >= config_.limit.max_rooms) {
      throw TwirpError("resource_exhausted", "this server has reached limit.max_rooms");
    }
    Entry e;
    e.created = Clock::now();
    auto& room = e.room;
    room.set_sid(common::random_id("RM_"));
    room.set_name(req.name());
    room.set_empty_timeout(req.empty_timeout() ? req.empty_timeout() : config_.room.empty_timeout);
    room.set_departure_timeout(req.departure_timeout() ? req.departure_timeout()
                                                       : config_.room.departure_timeout);
    room.set_max_participants(req.max_participants() ? req.max_participants()
                                                     : config_.room.max_participants);
    room.set_metadata(req.metadata());
    std::chrono::milliseconds ms{};
    room.set_creation_time(unix_now(&ms));
    room.set_creation_time_ms(ms.count());
    room.mutable_version()->set_unix_micro(ms.count() * 1000);
    started = room;
    rooms_.emplace(req.name(), std::move(e));
  }
  events_.on_room_started(started);
  return started;
}

std::optional<livekit::Room> RoomManager::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(name);
  if (it == rooms_.end()) return std::nullopt;
  return it->second.room;
}

std::vector<livekit::Room> RoomManager::list(const std::vector<std::string>& names) const {
  std::lock_guard lock(mutex_);
  std::vector<livekit::Room> out;
  if (names.empty()) {
    for (const auto& [_, e] : rooms_) out.push_back(e.room);
  } else {
    for (const auto& n : names) {
      if (auto it = rooms_.find(n); it != rooms_.end()) out.push_back(it->second.room);
    }
  }
  return out;
}

bool RoomManager::remove(const std::string& name, livekit::DisconnectReason reason) {
  livekit::Room finished;
  {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(name);
    if (it == rooms_.end()) return false;
    finished = it->second.room;
    rooms_.erase(it);
  }
  if (directory_) directory_->close_room(name, reason);
  events_.on_room_finished(finished);
  return true;
}

livekit::Room RoomManager::update_metadata(const std::string& name, const std::string& metadata) {
  if (metadata.size() > config_.limit.max_metadata_size) {
    throw TwirpError("invalid_argument", "metadata exceeds limit.max_metadata_size");
  }
  livekit::Room updated;
  {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(name);
    if (it == rooms_.end()) throw TwirpError("not_found", "requested room does not exist");
    it->second.room.set_metadata(metadata);
    updated = it->second.room;
  }
  if (directory_) directory_->room_updated(updated);
  return updated;
}

void RoomManager::participant_count_changed(const std::string& name, uint32_t participants,
                                            uint32_t publishers, uint32_t present) {
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(name);
  if (it == rooms_.end()) return;
  auto& e = it->second;
  e.room.set_num_participants(participants);
  e.room.set_num_publishers(publishers);
  e.present = present;
  if (present > 0) {
    e.ever_joined = true;
    e.emptied.reset();
  } else if (!e.emptied) {
    e.emptied = Clock::now();
  }
}

void RoomManager::sweep(Clock::time_point now) {
  std::vector<std::string> expired;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, e] : rooms_) {
      if (e.present > 0) continue;
      if (!e.ever_joined) {
        if (now - e.created >= std::chrono::seconds(e.room.empty_timeout())) expired.push_back(name);
      } else if (e.emptied &&
                 now - *e.emptied >= std::chrono::seconds(e.room.departure_timeout())) {
        expired.push_back(name);
      }
    }
  }
  for (const auto& name : expired) remove(name, livekit::ROOM_CLOSED);
}

}  // namespace parlor::service
