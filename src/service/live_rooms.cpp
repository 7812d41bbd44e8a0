#include "service/live_rooms.hpp"

#include "common/errors.hpp"
#include "service/twirp.hpp"

namespace parlor::service {

LiveRooms::LiveRooms(const config::MediaConfig& config, RoomManager& rooms, WebhookNotifier& webhooks,
                     sfu::Worker& worker)
    : rooms_(rooms), webhooks_(webhooks), worker_(worker),
      signal_(std::make_unique<signal::SignalServer>(config, worker, *this)) {}

LiveRooms::~LiveRooms() = default;

template <typename T>
T LiveRooms::on_worker(std::function<T()> fn) {
  std::optional<T> result;
  try {
    result = worker_.call<T>(std::move(fn));
  } catch (const BadInput& e) {
    throw TwirpError("not_found", e.what());
  }
  if (!result) throw TwirpError("unavailable", "the media worker did not answer in time");
  return std::move(*result);
}

signal::Participant& LiveRooms::participant_or_throw(const std::string& room, const std::string& identity) {
  auto* r = signal_->find_room(room);
  auto* p = r ? r->find(identity) : nullptr;
  if (!p) throw BadInput("participant " + identity + " is not in room " + room);
  return *p;
}

std::vector<livekit::ParticipantInfo> LiveRooms::list(const std::string& room) {
  return on_worker<std::vector<livekit::ParticipantInfo>>([this, room] {
    auto* r = signal_->find_room(room);
    return r ? r->participant_infos(true) : std::vector<livekit::ParticipantInfo>{};
  });
}

livekit::ParticipantInfo LiveRooms::get(const std::string& room, const std::string& identity) {
  return on_worker<livekit::ParticipantInfo>([this, room, identity] { return participant_or_throw(room, identity).info(); });
}

void LiveRooms::remove(const std::string& room, const std::string& identity) {
  on_worker<bool>([this, room, identity] {
    participant_or_throw(room, identity);
    signal_->find_room(room)->remove(identity, livekit::PARTICIPANT_REMOVED, true);
    return true;
  });
}

livekit::TrackInfo LiveRooms::mute(const livekit::MuteRoomTrackRequest& req) {
  return on_worker<livekit::TrackInfo>([this, req] {
    return participant_or_throw(req.room(), req.identity()).set_track_muted(req.track_sid(), req.muted(), true);
  });
}

livekit::ParticipantInfo LiveRooms::update(const livekit::UpdateParticipantRequest& req) {
  return on_worker<livekit::ParticipantInfo>([this, req] {
    auto& p = participant_or_throw(req.room(), req.identity());
    p.update_from_server(req);
    return p.info();
  });
}

void LiveRooms::update_subscriptions(const livekit::UpdateSubscriptionsRequest& req) {
  on_worker<bool>([this, req] {
    auto& p = participant_or_throw(req.room(), req.identity());
    std::vector<std::string> sids(req.track_sids().begin(), req.track_sids().end());
    for (const auto& pt : req.participant_tracks()) sids.insert(sids.end(), pt.track_sids().begin(), pt.track_sids().end());
    signal_->find_room(req.room())->update_subscription(p, sids, req.subscribe());
    return true;
  });
}

void LiveRooms::send_data(const livekit::SendDataRequest& req) {
  on_worker<bool>([this, req] {
    auto* room = signal_->find_room(req.room());
    if (!room) return true;
    livekit::DataPacket packet;
    packet.set_kind(req.kind() == livekit::DataPacket::LOSSY ? livekit::DataPacket::LOSSY : livekit::DataPacket::RELIABLE);
    auto* user = packet.mutable_user();
    user->set_payload(req.data());
    if (req.has_topic()) user->set_topic(req.topic());
    std::vector<std::string> to(req.destination_identities().begin(), req.destination_identities().end());
    room->send_data(packet, to, packet.kind() == livekit::DataPacket::RELIABLE);
    return true;
  });
}

void LiveRooms::close_room(const std::string& room, livekit::DisconnectReason reason) {
  signal_->close_room(room, reason);
}

void LiveRooms::room_updated(const livekit::Room& room) {
  worker_.post([this, room] {
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
