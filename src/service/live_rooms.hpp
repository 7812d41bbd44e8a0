#pragma once
// The bridge between the node's control plane (room registry, RoomService, webhooks) and the
// live rooms on the media worker. RoomService posts its participant work to the worker through
// post() and answers from there (no control thread ever waits on the worker); room events come
// back from the worker and become webhooks and registry counts.
#include <memory>

#include "service/room_manager.hpp"
#include "service/webhook_notifier.hpp"
#include "signal/signal_server.hpp"

namespace parlor::service {

class LiveRooms : public ParticipantDirectory, public signal::RoomListener {
 public:
  LiveRooms(const config::MediaConfig& config, RoomManager& rooms, WebhookNotifier& webhooks, sfu::Worker& worker);
  ~LiveRooms() override;

  signal::SignalServer& signal() { return *signal_; }
  // Told (on the worker) about each track published, after the room and webhooks: the Egress
  // service's room composites record tracks published after they started.
  using TrackPublishedHook =
      std::function<void(const std::string& room, const std::string& identity, const std::string& track_sid)>;
  void set_track_published_hook(TrackPublishedHook hook) { track_published_hook_ = std::move(hook); }

  // ParticipantDirectory: post(), close_room() and room_updated() from any thread; a task posted
  // after this object is gone (shutdown) is dropped unrun. The rest on the worker thread.
  void post(std::function<void()> task) override;
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

  RoomManager& rooms_;
  WebhookNotifier& webhooks_;
  sfu::Worker& worker_;
  std::unique_ptr<signal::SignalServer> signal_;
  TrackPublishedHook track_published_hook_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards posted tasks
};

}  // namespace parlor::service
