#include "signal/room.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>

#include "common/boundary.hpp"

namespace parlor::signal {

namespace {
constexpr auto kQualityInterval = std::chrono::seconds(5);
constexpr float kSpeakerLevelStep = 0.1f;  // re-announce a speaker when its level moves this much
}

Room::Room(livekit::Room info, const config::MediaConfig& config, sfu::Worker& worker,
           RoomListener& listener, LimitCounters& counters)
    : info_(std::move(info)),
      config_(config),
      worker_(worker),
      listener_(listener),
      counters_(counters),
      liveness_(LivenessTimeouts::from(config.rtc)) {
  worker_.check_owner("a Room (created)");
}

Room::~Room() {
  worker_.check_owner("a Room (destroyed)");
  *alive_ = false;
  taps_.detach_all("the room closed");
  // Subscriptions point into publishers' tracks: drop them all before any participant goes.
  for (auto& [_, p] : participants_) p->drop_all_subscriptions();
  participants_.clear();
}

void Room::set_info(const livekit::Room& info) {
  worker_.check_owner("a Room (set_info)");
  info_ = info;
  livekit::SignalResponse r;
  *r.mutable_room_update()->mutable_room() = info_;
  for (auto& [_, p] : participants_) p->send(r);
}

Participant* Room::find(const std::string& identity) {
  worker_.check_owner("a Room (find)");
  auto it = participants_.find(identity);
  return it == participants_.end() ? nullptr : it->second.get();
}

Participant* Room::find_by_sid(const std::string& sid) {
  for (auto& [_, p] : participants_) {
    if (p->sid() == sid) return p.get();
  }
  return nullptr;
}

std::vector<livekit::ParticipantInfo> Room::participant_infos(bool include_hidden) const {
  worker_.check_owner("a Room (participant_infos)");
  std::vector<livekit::ParticipantInfo> out;
  for (const auto& [_, p] : participants_) {
    if (include_hidden || !p->hidden()) out.push_back(p->info());
  }
  return out;
}

Participant& Room::join(JoinParams params, std::shared_ptr<SignalSink> connection) {
  const std::string identity = params.claims.identity;
  if (find(identity)) remove(identity, livekit::DUPLICATE_IDENTITY, true);

  auto others = participant_infos(false);
  auto p = std::make_unique<Participant>(*this, std::move(params), std::move(connection));
  Participant& ref = *p;
  participants_[identity] = std::move(p);
  info_.set_num_participants(visible_count());

  // Subscriptions to what is already published are created before the first answer, so the
  // client's initial receiving sections carry them without another negotiation round.
  if (ref.can_subscribe() && ref.auto_subscribe()) {
    for (auto& [_, other] : participants_) {
      if (other.get() == &ref) continue;
      for (auto* t : other->published_tracks()) subscribe(ref, *other, *t);
    }
  }
  try {
    ref.start(others);
  } catch (...) {
    // The session could not start (e.g. its offer is unusable): it alone ends, told why. Nobody
    // heard of it unless it already published; then it leaves like anyone. The caller's
    // boundary logs and counts it.
    ref.end_after_error(describe_current_exception());
    if (ref.publisher_track_count() > 0) {
      remove(identity, livekit::STATE_MISMATCH, false);
    } else {
      ref.drop_all_subscriptions();
      ref.close_connection();
      participants_.erase(identity);
      info_.set_num_participants(visible_count());
    }
    throw;
  }
  if (!quality_.empty()) {  // the newcomer learns the current quality of everyone
    livekit::SignalResponse q;
    for (const auto& [sid, quality] : quality_) {
      if (!quality_sent_.count(sid)) continue;
      auto* info = q.mutable_connection_quality()->add_updates();
      info->set_participant_sid(sid);
      info->set_quality(quality);
    }
    if (q.has_connection_quality()) ref.send(q);
  }
  if (!ref.hidden()) {
    auto info = ref.info();
    for (auto& [_, other] : participants_) {
      if (other.get() != &ref) other->send_update({info});
    }
  }
  spdlog::info("room={} participant={} sid={} joined ({}, {} {}{}, from {})", info_.name(), identity, ref.sid(),
               ref.single_pc() ? "/rtc/v1" : "/rtc", livekit::ClientInfo_SDK_Name(ref.client().sdk()),
               ref.client().version(), ref.hidden() ? ", hidden" : "", ref.remote_address());
  listener_.on_participant_joined(info_, ref.info());
  report_count();
  return ref;
}

void Room::remove(const std::string& identity, livekit::DisconnectReason reason, bool notify_client) {
  worker_.check_owner("a Room (remove)");
  auto it = participants_.find(identity);
  if (it == participants_.end()) return;
  std::unique_ptr<Participant> p = std::move(it->second);
  participants_.erase(it);
  info_.set_num_participants(visible_count());

  // What it published disappears from everyone's subscriptions (its tracks die with it).
  for (auto* t : p->published_tracks()) {
    taps_.track_gone(t->info.sid(), "the publisher left");
    for (auto& [_, other] : participants_) other->remove_subscription(t->info.sid());
    listener_.on_track_unpublished(info_, p->info(), t->info);
  }
  p->drop_all_subscriptions();

  auto info = p->info();
  info.set_state(livekit::ParticipantInfo::DISCONNECTED);
  info.set_disconnect_reason(reason);
  info.set_version(info.version() + 1);
  info.clear_tracks();
  if (!p->hidden()) {
    for (auto& [_, other] : participants_) other->send_update({info});
  }
  if (notify_client) p->send_leave(reason, livekit::LeaveRequest::DISCONNECT);
  p->close_connection();
  quality_.erase(p->sid());
  quality_sent_.erase(p->sid());
  speakers_.erase(p->sid());
  spdlog::info("room={} participant={} sid={} left: {}", info_.name(), identity, p->sid(),
               livekit::DisconnectReason_Name(reason));
  listener_.on_participant_left(info_, info);
  report_count();
}

void Room::defer_remove(const std::string& identity, const std::string& sid, livekit::DisconnectReason reason,
                        bool notify_client) {
  std::weak_ptr<bool> alive = alive_;
  worker_.post([this, alive, identity, sid, reason, notify_client] {
    if (!alive.lock()) return;
    auto* p = find(identity);
    if (p && p->sid() == sid) remove(identity, reason, notify_client);
  });
}

void Room::close(livekit::DisconnectReason reason) {
  worker_.check_owner("a Room (close)");
  taps_.detach_all("the room closed");
  std::vector<std::string> identities;
  for (auto& [id, _] : participants_) identities.push_back(id);
  for (auto& id : identities) remove(id, reason, true);
}

std::vector<std::pair<Participant*, PublishedTrack*>> Room::published_tracks() {
  std::vector<std::pair<Participant*, PublishedTrack*>> out;
  for (auto& [_, p] : participants_) {
    for (auto* t : p->published_tracks()) out.emplace_back(p.get(), t);
  }
  return out;
}

void Room::broadcast_update(Participant& changed) {
  auto info = changed.info();
  for (auto& [_, p] : participants_) {
    if (p.get() != &changed && changed.hidden()) continue;
    p->send_update({info});
  }
}

void Room::on_track_published(Participant& publisher, PublishedTrack& track) {
  spdlog::info("room={} participant={} published {} {} {} ({} layer{})", info_.name(), publisher.identity(),
               track.info.sid(), livekit::TrackSource_Name(track.info.source()), track.info.mime_type(),
               std::max<size_t>(1, track.rids.size()), track.rids.size() > 1 ? "s" : "");
  broadcast_update(publisher);  // subscribers learn the TrackInfo before its section appears
  listener_.on_track_published(info_, publisher.info(), track.info);
  for (auto& [_, p] : participants_) {
    if (p.get() == &publisher || !p->can_subscribe() || !p->auto_subscribe()) continue;
    subscribe(*p, publisher, track);
  }
  report_count();
}

void Room::on_track_unpublished(Participant& publisher, PublishedTrack& track) {
  spdlog::info("room={} participant={} unpublished {}", info_.name(), publisher.identity(), track.info.sid());
  for (auto& [_, p] : participants_) p->remove_subscription(track.info.sid());
  taps_.track_gone(track.info.sid(), "the track was unpublished");
  track.published = false;
  publisher.bump_version();
  broadcast_update(publisher);
  listener_.on_track_unpublished(info_, publisher.info(), track.info);
  report_count();
}

bool Room::subscribe(Participant& subscriber, Participant& publisher, PublishedTrack& track) {
  if (!subscriber.can_subscribe() || !track.up || subscriber.subscribed_to(track.info.sid())) return false;
  if (!may_receive(subscriber, publisher, track)) {
    subscriber.deny_track(publisher.sid(), track.info.sid(), false);
    return false;
  }
  if (!within_subscription_limit(subscriber, track)) return false;
  auto s = std::make_unique<Subscription>();
  s->publisher = &publisher;
  s->track = &track;
  s->track_sid = track.info.sid();
  subscriber.add_subscription(std::move(s));
  return true;
}

void Room::subscribe_all(Participant& subscriber) {
  for (auto& [_, other] : participants_) {
    if (other.get() == &subscriber) continue;
    for (auto* t : other->published_tracks()) subscribe(subscriber, *other, *t);
  }
}

void Room::visibility_changed(Participant& changed) {
  info_.set_num_participants(visible_count());
  if (changed.hidden()) {  // to the others it left; nothing about it reaches them from now on
    auto info = changed.info();
    info.set_state(livekit::ParticipantInfo::DISCONNECTED);
    info.clear_tracks();
    for (auto& [_, p] : participants_) {
      if (p.get() != &changed) p->send_update({info});
    }
    speakers_.erase(changed.sid());
    quality_.erase(changed.sid());
    quality_sent_.erase(changed.sid());
  }
  report_count();
}

bool Room::within_subscription_limit(Participant& subscriber, const PublishedTrack& track) {
  const auto type = track.info.type();
  uint32_t limit = type == livekit::VIDEO ? config_.limit.subscription_limit_video
                                          : config_.limit.subscription_limit_audio;
  if (subscriber.subscription_count(type) < limit) return true;
  LimitCounters::bump(counters_.subscriptions);
  return false;
}

void Room::unsubscribe(Participant& subscriber, const std::string& track_sid) {
  subscriber.remove_subscription(track_sid);
}

bool Room::may_receive(const Participant& subscriber, const Participant& publisher, const PublishedTrack& track) {
  return subscriber.bypasses_track_permissions() ||
         publisher.track_permissions().allows(subscriber.identity(), track.info.sid());
}

void Room::reconcile_permissions(Participant& subscriber, Participant& publisher) {
  for (auto* t : publisher.published_tracks()) {
    const auto& sid = t->info.sid();
    const bool allowed = may_receive(subscriber, publisher, *t);
    if (!allowed && subscriber.subscribed_to(sid)) {
      // LiveKit revokes at once: the down track goes (its section goes inactive in the next
      // negotiation, so the client sees the track unsubscribed) and the client learns why.
      subscriber.remove_subscription(sid);
      subscriber.deny_track(publisher.sid(), sid, true);
    } else if (allowed && subscriber.denied(sid)) {
      subscriber.allow_track(publisher.sid(), sid);
      subscribe(subscriber, publisher, *t);
    }
  }
}

void Room::track_permissions_changed(Participant& publisher) {
  for (auto& [_, p] : participants_) {
    if (p.get() != &publisher && p->can_subscribe()) reconcile_permissions(*p, publisher);
  }
}

void Room::recheck_track_permissions(Participant& subscriber) {
  for (auto& [_, p] : participants_) {
    if (p.get() != &subscriber) reconcile_permissions(subscriber, *p);
  }
}

// Spec §4.10: stamp the sender, pick destinations (the outer list, else the user packet's),
// never echo to the sender, and send on the same kind of channel it arrived on.
std::vector<std::string> Room::update_subscription(Participant& subscriber, const std::vector<std::string>& track_sids,
                                                  bool subscribe_to) {
  std::vector<std::string> unknown;
  for (const auto& sid : track_sids) {
    if (!subscribe_to) {
      unsubscribe(subscriber, sid);
      continue;
    }
    bool found = false;
    for (auto& [_, publisher] : participants_) {
      if (publisher.get() == &subscriber) continue;
      if (auto* t = publisher->track(sid); t && t->published) {
        if (!subscriber.subscribed_to(sid) && !may_receive(subscriber, *publisher, *t)) {
          // Refused with the permission update (the client shows it as not allowed); it is
          // subscribed if the publisher allows it later.
          if (subscriber.can_subscribe()) subscriber.deny_track(publisher->sid(), sid, true);
        } else if (!subscriber.subscribed_to(sid) && !within_subscription_limit(subscriber, *t)) {
          // The client reports it as a failed subscription (TrackSubscriptionFailed).
          livekit::SignalResponse r;
          r.mutable_subscription_response()->set_track_sid(sid);
          r.mutable_subscription_response()->set_err(livekit::SE_UNKNOWN);
          subscriber.send(r);
        } else {
          subscribe(subscriber, *publisher, *t);
        }
        found = true;
        break;
      }
    }
    if (!found) unknown.push_back(sid);
  }
  return unknown;
}

void Room::route_data(Participant& from, livekit::DataPacket packet, bool reliable) {
  worker_.check_owner("a Room (route_data)");
  if (!from.can_publish_data()) return;
  packet.set_kind(reliable ? livekit::DataPacket::RELIABLE : livekit::DataPacket::LOSSY);
  packet.set_participant_sid(from.sid());
  packet.set_participant_identity(from.hidden() ? "" : from.identity());
  std::vector<std::string> to(packet.destination_identities().begin(), packet.destination_identities().end());
  if (packet.has_user()) {
    auto* user = packet.mutable_user();
    user->set_participant_sid(from.sid());
    user->set_participant_identity(packet.participant_identity());
    if (to.empty()) {
      to.assign(user->destination_identities().begin(), user->destination_identities().end());
      for (const auto& id : to) packet.add_destination_identities(id);
    }
  }
  if (packet.has_metrics() || packet.has_transcription()) return;  // not forwarded from clients
  for (auto& [identity, p] : participants_) {
    if (p.get() == &from) continue;
    if (!to.empty() && std::find(to.begin(), to.end(), identity) == to.end()) continue;
    p->send_data(packet, reliable);
  }
}

void Room::send_data(const livekit::DataPacket& packet, const std::vector<std::string>& identities, bool reliable) {
  worker_.check_owner("a Room (send_data)");
  for (auto& [identity, p] : participants_) {
    if (!identities.empty() && std::find(identities.begin(), identities.end(), identity) == identities.end()) continue;
    p->send_data(packet, reliable);
  }
}

void Room::check_liveness(std::chrono::steady_clock::time_point now) {
  std::vector<std::pair<std::string, Liveness>> verdicts;
  for (auto& [id, p] : participants_) {
    auto verdict = judge_liveness(p->activity(), liveness_, now);
    if (verdict != Liveness::kAlive) verdicts.emplace_back(id, verdict);
  }
  for (auto& [id, verdict] : verdicts) {
    auto* p = find(id);
    if (!p) continue;  // removing an earlier one cannot remove another, but stay safe
    auto ms = [&](std::optional<std::chrono::steady_clock::time_point> t) -> long long {
      return t ? std::chrono::duration_cast<std::chrono::milliseconds>(now - *t).count() : -1;
    };
    auto activity = p->activity();
    auto heard = std::max(activity.last_heard[0], activity.last_heard[1]);
    worker_.log().info("participant removed ({}) room={} identity={} sid={} signal_lost_ms_ago={} heard_ms_ago={}",
                       to_string(verdict), info_.name(), id, p->sid(), ms(activity.signal_lost_at), ms(heard));
    switch (verdict) {
      case Liveness::kNeverConnected: remove(id, livekit::CONNECTION_TIMEOUT, true); break;
      case Liveness::kPeerGone: remove(id, livekit::CONNECTION_TIMEOUT, false); break;
      case Liveness::kResumeExpired: remove(id, livekit::SIGNAL_CLOSE, false); break;
      case Liveness::kConsentExpired:
        // The media path broke: LiveKit's answer is a resume (the SDK restarts ICE, possibly on
        // another address or protocol, and keeps its session, tracks and subscriptions).
        p->request_resume(now);
        break;
      case Liveness::kMediaFailed:
        p->send_leave(livekit::MEDIA_FAILURE, livekit::LeaveRequest::RECONNECT);
        remove(id, livekit::MEDIA_FAILURE, false);
        break;
      case Liveness::kAlive: break;
    }
  }
}

void Room::tick(std::chrono::steady_clock::time_point now) {
  worker_.check_owner("a Room (tick)");
  check_liveness(now);
  for (auto& [_, p] : participants_) p->tick(now);
  taps_.tick(now);

  livekit::SignalResponse speakers;
  for (auto& [_, p] : participants_) {
    auto level = p->take_audio_level();
    auto it = speakers_.find(p->sid());
    if (level.active && !p->hidden()) {
      if (it == speakers_.end() || std::abs(it->second - level.level) > kSpeakerLevelStep) {
        speakers_[p->sid()] = level.level;
        auto* s = speakers.mutable_speakers_changed()->add_speakers();
        s->set_sid(p->sid());
        s->set_level(level.level);
        s->set_active(true);
      }
    } else if (it != speakers_.end()) {
      speakers_.erase(it);
      auto* s = speakers.mutable_speakers_changed()->add_speakers();
      s->set_sid(p->sid());
      s->set_level(0);
      s->set_active(false);
    }
  }
  if (speakers.has_speakers_changed()) {
    for (auto& [_, p] : participants_) p->send(speakers);
  }

  if (now - last_quality_ < kQualityInterval) return;
  last_quality_ = now;
  livekit::SignalResponse quality;
  for (auto& [_, p] : participants_) {
    auto loss = p->take_loss();
    if (p->hidden()) continue;  // nobody learns of a hidden participant, not even its quality
    livekit::ConnectionQuality q = livekit::EXCELLENT;
    if (!p->connected()) q = livekit::LOST;
    else if (loss && *loss > 0.10) q = livekit::POOR;
    else if (loss && *loss > 0.02) q = livekit::GOOD;
    auto& known = quality_[p->sid()];
    bool first = !quality_sent_.count(p->sid());
    if (!first && known == q) continue;
    quality_sent_.insert(p->sid());
    known = q;
    auto* info = quality.mutable_connection_quality()->add_updates();
    info->set_participant_sid(p->sid());
    info->set_quality(q);
    info->set_score(q == livekit::EXCELLENT ? 5.0f : q == livekit::GOOD ? 3.5f : q == livekit::POOR ? 1.5f : 0.0f);
  }
  if (quality.has_connection_quality()) {
    for (auto& [_, p] : participants_) p->send(quality);
  }
}

void Room::report_count() {
  uint32_t publishers = 0;
  for (auto& [_, p] : participants_) {
    if (p->publisher_track_count() > 0) ++publishers;
  }
  info_.set_num_publishers(publishers);
  listener_.on_participant_count(info_.name(), visible_count(), publishers,
                                 static_cast<uint32_t>(participants_.size()));
}

uint32_t Room::visible_count() const {
  return static_cast<uint32_t>(std::count_if(participants_.begin(), participants_.end(),
                                             [](const auto& e) { return !e.second->hidden(); }));
}

}  // namespace parlor::signal
