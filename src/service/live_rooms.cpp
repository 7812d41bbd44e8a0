#include "service/live_rooms.hpp"

#include <algorithm>
#include <functional>

#include "common/errors.hpp"
#include "service/twirp.hpp"

namespace parlor::service {

LiveRooms::LiveRooms(const config::MediaConfig& config, RoomManager& rooms, WebhookNotifier& webhooks,
                     std::vector<sfu::Worker*> workers)
    : rooms_(rooms), webhooks_(webhooks), workers_(std::move(workers)), placed_(workers_.size(), 0) {
  if (workers_.empty()) throw InternalError("LiveRooms needs at least one media worker");
  for (auto* w : workers_) signals_.push_back(std::make_unique<signal::SignalServer>(config, *w, *this));
}

LiveRooms::~LiveRooms() = default;

size_t LiveRooms::place(const std::string& room) {
  std::lock_guard lock(placement_mutex_);
  if (auto it = placement_.find(room); it != placement_.end()) return it->second;
  // Least loaded by rooms: a room's cost is unknown when it is placed (a 1:1 visit or a hundred
  // subscribers), and rooms come and go far more evenly than participants.
  size_t best = static_cast<size_t>(std::min_element(placed_.begin(), placed_.end()) - placed_.begin());
  placement_.emplace(room, best);
  ++placed_[best];
  return best;
}

std::optional<size_t> LiveRooms::placement(const std::string& room) const {
  std::lock_guard lock(placement_mutex_);
  auto it = placement_.find(room);
  if (it == placement_.end()) return std::nullopt;
  return it->second;
}

std::vector<uint32_t> LiveRooms::placed_rooms() const {
  std::lock_guard lock(placement_mutex_);
  return placed_;
}

// A room not placed has no live state anywhere: any worker answers for it the same way. Its
// name picks one, so the lookup creates no placement (RoomService calls for rooms that never
// had anyone must not fill the table).
size_t LiveRooms::worker_for(const std::string& room) const {
  if (auto w = placement(room)) return *w;
  return std::hash<std::string>{}(room) % workers_.size();
}

void LiveRooms::accept(signal::JoinParams params, livekit::Room room, signal::WsConnection::UpgradeRequest raw,
                       http::UpgradeStream stream, std::shared_ptr<void> lease) {
  size_t w = place(room.name());
  signals_[w]->accept(std::move(params), std::move(room), std::move(raw), std::move(stream), std::move(lease));
}

signal::SignalServer* LiveRooms::current_signal() {
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (workers_[i]->on_worker_thread()) return signals_[i].get();
  }
  return nullptr;
}

signal::Room* LiveRooms::find_room(const std::string& name) {
  auto* s = current_signal();
  return s ? s->find_room(name) : nullptr;
}

void LiveRooms::drop_worker(size_t worker) { signals_.at(worker).reset(); }

void LiveRooms::post(const std::string& room, std::function<void()> task) {
  workers_[worker_for(room)]->post([alive = std::weak_ptr<bool>(alive_), task = std::move(task)] {
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
  auto* r = find_room(room);
  auto* p = r ? r->find(identity) : nullptr;
  if (!p) throw TwirpError("not_found", "participant " + identity + " is not in room " + room);
  return *p;
}

std::vector<livekit::ParticipantInfo> LiveRooms::list(const std::string& room) {
  auto* r = find_room(room);
  return r ? r->participant_infos(true) : std::vector<livekit::ParticipantInfo>{};
}

livekit::ParticipantInfo LiveRooms::get(const std::string& room, const std::string& identity) {
  return participant_or_throw(room, identity).info();
}

void LiveRooms::remove(const std::string& room, const std::string& identity) {
  participant_or_throw(room, identity);
  find_room(room)->remove(identity, livekit::PARTICIPANT_REMOVED, true);
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
      [&] { find_room(req.room())->update_subscription(p, sids, req.subscribe()); });
}

void LiveRooms::send_data(const livekit::SendDataRequest& req) {
  auto* room = find_room(req.room());
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

// The placement goes now, on the control thread: a join that arrives while the close is still
// queued on the old worker places the name afresh (possibly elsewhere), and the close removes
// only the old worker's room.
void LiveRooms::close_room(const std::string& room, livekit::DisconnectReason reason) {
  size_t w = worker_for(room);
  {
    std::lock_guard lock(placement_mutex_);
    if (auto it = placement_.find(room); it != placement_.end()) {
      --placed_[it->second];
      placement_.erase(it);
    }
  }
  signals_[w]->close_room(room, reason);
}

void LiveRooms::room_updated(const livekit::Room& room) {
  post(room.name(), [this, room] {
    if (auto* r = find_room(room.name())) r->set_info(room);
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
