#pragma once
// The registry of rooms on this node (control plane). Rooms are created by CreateRoom or on
// join (auto_create), closed by DeleteRoom or by the empty/departure timeouts, and announce
// room_started / room_finished through RoomEvents.
//
// Threading: every method is safe from any control-plane thread (one mutex; never held while
// calling out to listeners). Media workers never call in here.
//
// Live participants belong to the signaling layer; it plugs in a ParticipantDirectory so the
// participant-level RoomService methods act on them. Until one is attached those methods
// answer "participant does not exist".
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/config/media_config.hpp"
#include "livekit_models.pb.h"
#include "livekit_room.pb.h"

namespace parlor::service {

class RoomEvents {
 public:
  virtual ~RoomEvents() = default;
  virtual void on_room_started(const livekit::Room& room) = 0;
  virtual void on_room_finished(const livekit::Room& room) = 0;
};

// Participant-level operations, implemented by whoever owns live sessions (LiveRooms, whose
// participants live on a media worker). Control threads never wait for them: they post() a task
// to the owner's thread and the task calls the participant methods there.
class ParticipantDirectory {
 public:
  virtual ~ParticipantDirectory() = default;

  // Any thread. Queues `task` to run later on the thread that owns the participants of `room`
  // (its media worker). A task the owner can no longer run (it is stopping) is destroyed without
  // being called, so whoever waits for it must notice that through what the task owns (see
  // RoomService's reply).
  virtual void post(const std::string& room, std::function<void()> task) = 0;

  // Owner's thread only (inside a task posted for the same room). Each throws TwirpError("not_found", ...) for
  // unknown identities, tracks or rooms.
  virtual std::vector<livekit::ParticipantInfo> list(const std::string& room) = 0;
  virtual livekit::ParticipantInfo get(const std::string& room, const std::string& identity) = 0;
  virtual void remove(const std::string& room, const std::string& identity) = 0;
  virtual livekit::TrackInfo mute(const livekit::MuteRoomTrackRequest& request) = 0;
  virtual livekit::ParticipantInfo update(const livekit::UpdateParticipantRequest& request) = 0;
  virtual void update_subscriptions(const livekit::UpdateSubscriptionsRequest& request) = 0;
  virtual void send_data(const livekit::SendDataRequest& request) = 0;

  // Any thread; fire and forget. The room is closing: disconnect everyone with the given reason.
  virtual void close_room(const std::string& room, livekit::DisconnectReason reason) = 0;
  virtual void room_updated(const livekit::Room& room) = 0;
};

class RoomManager {
 public:
  using Clock = std::chrono::steady_clock;

  RoomManager(const config::MediaConfig& config, RoomEvents& events);

  void set_directory(ParticipantDirectory* directory) { directory_ = directory; }
  ParticipantDirectory* directory() const { return directory_; }

  // Creates the room or returns the existing one (updating its settings from the request, as
  // LiveKit does). Throws TwirpError: invalid_argument for a bad name, resource_exhausted when
  // limit.max_rooms is reached.
  livekit::Room create(const livekit::CreateRoomRequest& request);
  std::optional<livekit::Room> find(const std::string& name) const;
  std::vector<livekit::Room> list(const std::vector<std::string>& names) const;
  // Removes the room; false if it did not exist. Disconnects participants via the directory.
  bool remove(const std::string& name,
              livekit::DisconnectReason reason = livekit::ROOM_DELETED);
  livekit::Room update_metadata(const std::string& name, const std::string& metadata);

  // Called by the signaling layer when participants come and go: `participants` is what the
  // room reports (hidden ones left out), `present` everyone there (it keeps the room open).
  void participant_count_changed(const std::string& name, uint32_t participants,
                                 uint32_t publishers, uint32_t present);

  // Closes rooms whose empty or departure timeout has passed. Call about once a second.
  void sweep(Clock::time_point now = Clock::now());

  // Throws TwirpError(invalid_argument) unless the name is acceptable.
  void check_room_name(const std::string& name) const;

 private:
  struct Entry {
    livekit::Room room;
    Clock::time_point created;
    std::optional<Clock::time_point> emptied;  // when the last participant left
    bool ever_joined = false;
    uint32_t present = 0;  // participants connected, hidden ones included
  };

  const config::MediaConfig& config_;
  RoomEvents& events_;
  ParticipantDirectory* directory_ = nullptr;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> rooms_;
};

}  // namespace parlor::service
