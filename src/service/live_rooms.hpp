#pragma once
// The bridge between the node's control plane (room registry, RoomService, webhooks) and the
// live rooms on the media workers. Each worker runs its own SignalServer with the rooms placed
// on it; a room is placed when its first participant arrives, on the worker with the fewest
// rooms placed (ties: the lowest index), and stays there until it closes, so everything of a
// room (participants, transports, signaling WebSockets, recording taps) lives on one worker
// and no two workers share a room's state. RoomService posts its participant work to the
// room's worker through post() and answers from there (no control thread ever waits on a
// worker); room events come back from the workers and become webhooks and registry counts.
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "service/room_manager.hpp"
#include "service/webhook_notifier.hpp"
#include "signal/signal_server.hpp"

namespace parlor::service {

class LiveRooms : public ParticipantDirectory, public signal::RoomListener {
 public:
  // `workers` indexed by Worker::index(); they outlive this object and are stopped (or this
  // object's per-worker parts dropped on them, drop_worker) before it is destroyed.
  LiveRooms(const config::MediaConfig& config, RoomManager& rooms, WebhookNotifier& webhooks,
            std::vector<sfu::Worker*> workers);
  ~LiveRooms() override;

  size_t worker_count() const { return workers_.size(); }
  // The signal server of worker i: accept() and limit_counters() from any thread.
  signal::SignalServer& signal(size_t worker) { return *signals_.at(worker); }
  // Any thread: the worker the room is placed on, placing it now if it is not yet.
  size_t place(const std::string& room);
  // Any thread: the worker of a placed room.
  std::optional<size_t> placement(const std::string& room) const;
  // Any thread: the worker that runs what is posted for `room` (post()): its placement, or for
  // a room not placed one chosen by its name (no placement is made).
  size_t worker_for(const std::string& room) const;
  // Any thread: rooms placed on each worker (index = worker).
  std::vector<uint32_t> placed_rooms() const;
  // Hands an authorized upgrade to the signal server of the room's worker (placing the room).
  void accept(signal::JoinParams params, livekit::Room room, signal::WsConnection::UpgradeRequest raw,
              http::UpgradeStream stream, std::shared_ptr<void> lease);
  // Worker thread: the live room of that name on the calling worker, or nullptr.
  signal::Room* find_room(const std::string& name);
  // On worker i's thread at shutdown: destroys its rooms (usrsctp and the ownership checks want
  // them gone on their own thread).
  void drop_worker(size_t worker);
  // Told (on the worker) about each track published, after the room and webhooks: the Egress
  // service's room composites record tracks published after they started.
  using TrackPublishedHook =
      std::function<void(const std::string& room, const std::string& identity, const std::string& track_sid)>;
  void set_track_published_hook(TrackPublishedHook hook) { track_published_hook_ = std::move(hook); }

  // ParticipantDirectory: post(), close_room() and room_updated() from any thread; a task posted
  // after this object is gone (shutdown) is dropped unrun. The rest on the room's worker (where
  // post() runs its task: the placed worker, or for a room not placed, one chosen by its name).
  void post(const std::string& room, std::function<void()> task) override;
  std::vector<livekit::ParticipantInfo> list(const std::string& room) override;
  livekit::ParticipantInfo get(const std::string& room, const std::string& identity) override;
  void remove(const std::string& room, const std::string& identity) override;
  livekit::TrackInfo mute(const livekit::MuteRoomTrackRequest& request) override;
  livekit::ParticipantInfo update(const livekit::UpdateParticipantRequest& request) override;
  void update_subscriptions(const livekit::UpdateSubscriptionsRequest& request) override;
  void send_data(const livekit::SendDataRequest& request) override;
  void close_room(const std::string& room, livekit::DisconnectReason reason) override;
  void room_updated(const livekit::Room& room) override;

  // signal::RoomListener (worker thread)
  void on_participant_joined(const livekit::Room& room, const livekit::ParticipantInfo& p) override;
  void on_participant_left(const livekit::Room& room, const livekit::ParticipantInfo& p) override;
  void on_track_published(const livekit::Room& room, const livekit::ParticipantInfo& p,
                          const livekit::TrackInfo& track) override;
  void on_track_unpublished(const livekit::Room& room, const livekit::ParticipantInfo& p,
                            const livekit::TrackInfo& track) override;
  void on_participant_count(const std::string& room, uint32_t participants, uint32_t publishers,
                            uint32_t present) override;

 private:
  signal::Participant& participant_or_throw(const std::string& room, const std::string& identity);
  void webhook(const char* event, const livekit::Room& room, const livekit::ParticipantInfo* p,
               const livekit::TrackInfo* track);

  // The signal server of the calling worker (nullptr off the workers).
  signal::SignalServer* current_signal();

  RoomManager& rooms_;
  WebhookNotifier& webhooks_;
  std::vector<sfu::Worker*> workers_;
  std::vector<std::unique_ptr<signal::SignalServer>> signals_;
  // Placement (control plane; never touched per packet).
  mutable std::mutex placement_mutex_;
  std::unordered_map<std::string, size_t> placement_;
  std::vector<uint32_t> placed_;  // rooms per worker
  TrackPublishedHook track_published_hook_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards posted tasks
};

}  // namespace parlor::service
