#include "service/live_rooms.hpp"

#include "common/errors.hpp"
#include "service/twirp.hpp"

namespace parlor::service {

LiveRooms::LiveRooms(const config::MediaConfig& config, RoomManager& rooms, WebhookNotifier& webhooks,
                     sfu::Worker& worker)
    : rooms_(rooms), webhooks_(webhooks), worker_(worker),
      signal_(std::make_unique<signal::SignalServer>(config, worker, *this)) {}

LiveRooms::~LiveRooms() = default;

void LiveRooms::post(std::function<void()> task) {
  worker_.post([alive = std::weak_ptr<bool>(alive_), task = std::move(task)] {
    if (alive.lock()) task();  // else dropped: the task's owned state sees it destroyed unrun
  });
}

namespace {
// The participant layer reports unknown tracks and identities as BadInput; RoomService answers
// them `not_found`, as LiveKit does.
template <typename Fn>
auto not_found_on_bad_input(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const BadInput& e) {
    throw TwirpError("not_found", e.what());
  }
}
}  // namespace

signal::Participant& LiveRooms::participant_or_throw(const std::string& room, const std::string& identity) {
  auto* r = signal_->find_room(room);
  auto* p = r ? r->find(identity) : nullptr;
  if (!p) throw TwirpError("not_found", "participant " + identity + " is not in room " + room);
  return *p;
}

std::vector<livekit::ParticipantInfo> LiveRooms::list(const std::string& room) {
  auto* r = signal_->find_room(room);
  return r ? r->participant_infos(true) : std::vector<livekit::ParticipantInfo>{};
}

livekit::ParticipantInfo LiveRooms::get(const std::string& room, const std::string& identity) {
  return participant_or_throw(room, identity).info();
}

void LiveRooms::remove(const std::string& room, const std::string& identity) {
  participant_or_throw(room, identity);
  signal_->find_room(room)->remove(identity, livekit::PARTICIPANT_REMOVED, true);
}

livekit::TrackInfo LiveRooms::mute(const livekit::MuteRoomTrackRequest& req) {
  auto& p = participant_or_throw(req.room(), req.identity());
  return not_found_on_bad_input(
      [&] { return p.set_track_muted(req.track_sid(), req.muted(), true); });
}

livekit::ParticipantInfo LiveRooms::update(const livekit::UpdateParticipantRequest& req) {
  auto& p = participant_or_throw(req.room(), req.identity());
  not_found_on_bad_input([&] { p.update_from_server(req); });
  return p.info();
}

void LiveRooms::update_subscriptions(const livekit::UpdateSubscriptionsRequest& req) {
  auto& p = participant_or_throw(req.room(), req.identity());
  std::vector<std::string> sids(req.track_sids().begin(), req.track_sids().end());
  for (const auto& pt : req.participant_tracks())
    sids.insert(sids.end(), pt.track_sids().begin(), pt.track_sids().end());
  not_found_on_bad_input(
      [&] { signal_->find_room(req.room())->update_subscription(p, sids, req.subscribe()); });
}

void LiveRooms::send_data(const livekit::SendDataRequest& req) {
  auto* room = signal_->find_room(req.room());
  if (!room) return;
  livekit::DataPacket packet;
  packet.set_kind(req.kind() == livekit::DataPacket::LOSSY ? livekit::DataPacket::LOSSY
                                                           : livekit::DataPacket::RELIABLE);
  auto* user = packet.mutable_user();
  user->set_payload(req.data());
  if (req.has_topic()) user->set_topic(req.topic());
  std::vector<std::string> to(req.destination_identities().begin(),
                              req.destination_identities().end());
  not_found_on_bad_input(
      [&] { room->send_data(packet, to, packet.kind() == livekit::DataPacket::RELIABLE); });
}

void LiveRooms::close_room(const std::string& room, livekit::DisconnectReason reason) {
  signal_->close_room(room, reason);
}

void LiveRooms::room_updated(const livekit::Room& room) {
  post([this, room] {
    if (auto* r = signal_->find_room(room.name())) r->set_info(room);
  });
}

void LiveRooms::webhook(const char* event, const livekit::Room& room, const livekit::ParticipantInfo* p,
                        const livekit::TrackInfo* track) {
  livekit::WebhookEvent e;
  e.set_event(event);
  *e.mutable_room() = room;
  if (p) *e.mutable_participant() = *p;
  if (track) *e.mutable_track() = *track;
  webhooks_.notify(std::move(e));
}

void LiveRooms::on_participant_joined(const livekit::Room& room, const livekit::ParticipantInfo& p) {
  webhook("participant_joined", room, &p, nullptr);
}
void LiveRooms::on_participant_left(const livekit::Room& room, const livekit::ParticipantInfo& p) {
  webhook("participant_left", room, &p, nullptr);
}
void LiveRooms::on_track_published(const livekit::Room& room, const livekit::ParticipantInfo& p,
                                   const livekit::TrackInfo& track) {
  webhook("track_published", room, &p, &track);
  if (track_published_hook_) track_published_hook_(room.name(), p.identity(), track.sid());
}
void LiveRooms::on_track_unpublished(const livekit::Room& room, const livekit::ParticipantInfo& p,
                                     const livekit::TrackInfo& track) {
  webhook("track_unpublished", room, &p, &track);
}
void LiveRooms::on_participant_count(const std::string& room, uint32_t participants,
                                     uint32_t publishers, uint32_t present) {
  rooms_.participant_count_changed(room, participants, publishers, present);
}

}  // namespace parlor::service
