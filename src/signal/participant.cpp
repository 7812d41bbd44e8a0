#include "signal/participant.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "common/encoding.hpp"
#include "common/errors.hpp"
#include "common/version.hpp"
#include "rtc/rtcp/rtcp_packet.hpp"
#include "signal/ice_servers.hpp"
#include "signal/room.hpp"

namespace parlor::signal {

namespace {
constexpr int32_t kPingIntervalSeconds = 5;   // LiveKit's values (spec §3.1)
constexpr int32_t kPingTimeoutSeconds = 15;
constexpr uint32_t kRtcpSenderSsrc = 1;
// Spec §4.9: a fresh token right after join and every 5 minutes, valid for at least 10 minutes,
// so reconnects work after the join token has expired.
constexpr auto kRefreshInterval = std::chrono::minutes(5);
constexpr auto kRefreshTokenTtl = std::chrono::seconds(15 * 60);
constexpr auto kReceiverReportInterval = std::chrono::milliseconds(800);

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* source_letter(livekit::TrackSource s) {
  switch (s) {
    case livekit::CAMERA: return "C";
    case livekit::MICROPHONE: return "M";
    case livekit::SCREEN_SHARE: return "S";
    case livekit::SCREEN_SHARE_AUDIO: return "s";
    default: return "U";
  }
}

livekit::ParticipantPermission permission_from(const auth::ClaimGrants& claims) {
  livekit::ParticipantPermission p;
  if (!claims.video) return p;
  const auto& v = *claims.video;
  p.set_can_subscribe(v.effective_can_subscribe());
  p.set_can_publish(v.effective_can_publish());
  p.set_can_publish_data(v.effective_can_publish_data());
  for (const auto& s : v.can_publish_sources) {
    int src = auth::track_source_from_name(s);
    if (src > 0) p.add_can_publish_sources(static_cast<livekit::TrackSource>(src));
  }
  p.set_hidden(v.hidden);
  p.set_recorder(v.recorder);
  p.set_can_update_metadata(v.can_update_own_metadata);
  p.set_agent(v.agent);
  p.set_can_subscribe_metrics(v.can_subscribe_metrics);
  return p;
}

// LiveKit's GetCanPublishSource: canPublish, then the source list (empty = every source).
bool may_publish_source(const livekit::ParticipantPermission& p, livekit::TrackSource source) {
  if (!p.can_publish()) return false;
  return p.can_publish_sources_size() == 0 ||
         std::find(p.can_publish_sources().begin(), p.can_publish_sources().end(), source) !=
             p.can_publish_sources().end();
}
}  // namespace

// Events of the v0 subscriber PC, told apart from the publisher PC's.
class Participant::SubscriberEvents : public rtc::WebRtcTransport::Listener {
 public:
  explicit SubscriberEvents(Participant& p) : p_(p) {}
  void on_transport_connected() override { p_.on_subscriber_connected(); }
  void on_transport_closed(const std::string& reason) override { p_.on_transport_closed(reason); }
  void on_rtp(rtc::RtpPacketView&) override {}  // nothing is published on it
  void on_rtcp(std::span<const uint8_t> compound) override { p_.on_rtcp(compound); }
  void on_transport_timer(Clock::time_point now) override { p_.pace_probe(now); }
  // Clients send data on their publisher PC; the subscriber PC's channels only carry ours.

 private:
  Participant& p_;
};

Participant::Participant(Room& room, JoinParams params, std::shared_ptr<SignalSink> connection)
    : room_(room),
      claims_(std::move(params.claims)),
      sid_(common::random_id("PA_")),
      single_pc_(params.single_pc),
      auto_subscribe_(params.auto_subscribe),
      adaptive_stream_(params.adaptive_stream),
      client_(std::move(params.client)),
      initial_offer_(std::move(params.publisher_offer)),
      connection_(std::move(connection)),
      joined_at_ms_(now_ms()),
      signal_rate_(room.config().limit),
      data_rate_(room.config().limit) {
  room.worker().check_owner("a Participant (created)");
  congestion_ = make_subscriber_congestion(room.config());
  rtc::IceLiteAgent::Options ice;
  ice.consent_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      LivenessTimeouts::from(room.config().rtc).ice_consent);
  transport_ = std::make_unique<rtc::WebRtcTransport>(room.worker().certificate(), rtc::generate_ice_credentials(),
                                                      ice, room.worker(), *this);
  if (!single_pc_) {
    sub_events_ = std::make_unique<SubscriberEvents>(*this);
    sub_transport_ = std::make_unique<rtc::WebRtcTransport>(room.worker().certificate(), rtc::generate_ice_credentials(),
                                                            ice, room.worker(), *sub_events_);
  }
  for (auto& t : params.add_tracks) handle_add_track(t);
  // Registered last: a constructor that throws leaves nothing pointing at this object.
  room_.worker().add(*transport_);
  if (sub_transport_) room_.worker().add(*sub_transport_);
  connection_->set_listener(this);
}

Participant::~Participant() {
  room_.worker().check_owner("a Participant (destroyed)");
  publish_congestion_metrics(true);
  connection_->detach();
  room_.worker().remove(*transport_);
  if (sub_transport_) room_.worker().remove(*sub_transport_);
}

livekit::ParticipantInfo Participant::info() const {
  livekit::ParticipantInfo p;
  p.set_sid(sid_);
  p.set_identity(claims_.identity);
  p.set_state(state_);
  p.set_name(claims_.name);
  p.set_metadata(claims_.metadata);
  for (const auto& [k, v] : claims_.attributes) (*p.mutable_attributes())[k] = v;
  p.set_joined_at(joined_at_ms_ / 1000);
  p.set_joined_at_ms(joined_at_ms_);
  p.set_version(version_);
  *p.mutable_permission() = permission_from(claims_);
  bool publisher = false;
  for (const auto& t : tracks_) {
    if (!t->published) continue;
    *p.add_tracks() = t->info;
    publisher = true;
  }
  p.set_is_publisher(publisher);
  p.set_client_protocol(client_.client_protocol());
  for (int c : client_.capabilities()) p.add_capabilities(static_cast<livekit::ClientInfo::Capability>(c));
  if (claims_.kind == "agent") p.set_kind(livekit::ParticipantInfo::AGENT);
  else if (claims_.kind == "egress") p.set_kind(livekit::ParticipantInfo::EGRESS);
  else if (claims_.kind == "ingress") p.set_kind(livekit::ParticipantInfo::INGRESS);
  else if (claims_.kind == "sip") p.set_kind(livekit::ParticipantInfo::SIP);
  return p;
}

std::vector<PublishedTrack*> Participant::published_tracks() {
  std::vector<PublishedTrack*> out;
  for (auto& t : tracks_) {
    if (t->published) out.push_back(t.get());
  }
  return out;
}

PublishedTrack* Participant::track(const std::string& sid) {
  for (auto& t : tracks_) {
    if (t->info.sid() == sid) return t.get();
  }
  return nullptr;
}

size_t Participant::publisher_track_count() const {
  return static_cast<size_t>(std::count_if(tracks_.begin(), tracks_.end(), [](auto& t) { return t->published; }));
}

void Participant::send(const livekit::SignalResponse& message) {
  if (connection_->open()) connection_->send(message.SerializeAsString());
}

void Participant::send_update(const std::vector<livekit::ParticipantInfo>& infos) {
  livekit::SignalResponse r;
  for (const auto& i : infos) *r.mutable_update()->add_participants() = i;
  send(r);
}

void Participant::send_leave(livekit::DisconnectReason reason, livekit::LeaveRequest::Action action) {
  livekit::SignalResponse r;
  auto* leave = r.mutable_leave();
  leave->set_reason(reason);
  leave->set_action(action);
  leave->set_can_reconnect(action != livekit::LeaveRequest::DISCONNECT);
  send(r);
}

void Participant::close_connection() {
  connection_->detach();
  connection_->close();
}

TurnListeners Participant::turn_listeners() {
  auto& w = room_.worker().turn_worker();  // TURN is served by one worker for all
  return {w.advertised_ip(), w.turn_udp_port(), w.turn_tls_port()};
}

// The same ServerInfo in JoinResponse and ReconnectResponse: the LiveKit version clients gate
// features on, and Parlor's own version where no client reads it (common/version.hpp).
void Participant::fill_server_info(livekit::ServerInfo& info) const {
  info.set_edition(livekit::ServerInfo::Standard);
  info.set_version(version::kLiveKitCompatible);
  info.set_protocol(version::kSignalProtocol);
  info.set_node_id(room_.config().node_name);
  info.set_debug_info(std::string(version::kProduct) + " " + version::kParlor);
}

void Participant::start(const std::vector<livekit::ParticipantInfo>& others) {
  livekit::SignalResponse r;
  auto* join = r.mutable_join();
  *join->mutable_room() = room_.info();
  *join->mutable_participant() = info();
  for (const auto& o : others) *join->add_other_participants() = o;
  join->set_server_version(version::kLiveKitCompatible);
  fill_server_info(*join->mutable_server_info());
  join->set_subscriber_primary(!single_pc_);
  join->set_ping_interval(kPingIntervalSeconds);
  join->set_ping_timeout(kPingTimeoutSeconds);
  fill_ice_servers(room_.config(), turn_listeners(), identity(), unix_seconds(), *join->mutable_ice_servers());
  fill_client_configuration(room_.config(), *join->mutable_client_configuration());
  send(r);
  started_ = true;
  // Tracks refused while joining: the client knows their publishers now.
  for (const auto& [track_sid, publisher_sid] : denied_) send_permission_update(publisher_sid, track_sid, false);
  send_refresh_token();
  state_ = livekit::ParticipantInfo::JOINED;
  if (!single_pc_) {
    send_subscriber_offer();  // spec §3.2: at once, even with nothing to receive yet
  } else if (initial_offer_) {
    auto offer = std::move(*initial_offer_);
    initial_offer_.reset();
    handle_offer(offer);
  }
}

void Participant::send_refresh_token() {
  last_refresh_ = Clock::now();
  auto key = room_.config().keys.find(claims_.api_key);
  if (key == room_.config().keys.end()) return;
  auth::MintOptions options;
  options.ttl = kRefreshTokenTtl;
  livekit::SignalResponse r;
  r.set_refresh_token(auth::mint_token(claims_, key->second, options));
  send(r);
}

void Participant::tick(Clock::time_point now) {
  room_.worker().check_owner("a Participant (tick)");
  if (started_ && now - last_refresh_ >= kRefreshInterval) send_refresh_token();
  if (now - last_receiver_report_ >= kReceiverReportInterval) {
    last_receiver_report_ = now;
    send_receiver_reports(now);
    send_sender_reports(now);
  }
  send_subscribed_qualities();
  run_congestion_control(now);
}

// Dynacast (spec §4.8): tell the publisher which simulcast layers anyone may receive, so the
// others are not encoded or sent (clients apply it only with `dynacast: true`). Sent on change.
void Participant::send_subscribed_qualities() {
  for (auto& t : tracks_) {
    if (!t->published || !t->up || !t->up->video() || t->rids.size() < 2) continue;
    uint32_t mask = t->up->wanted_layers();
    if (mask == t->announced_layers) continue;
    t->announced_layers = mask;
    livekit::SignalResponse r;
    auto* update = r.mutable_subscribed_quality_update();
    update->set_track_sid(t->info.sid());
    auto* codec = update->add_subscribed_codecs();
    codec->set_codec(std::string(rtc::codec_short_name(t->up->codec())));
    for (size_t i = 0; i < t->rids.size(); ++i) {
      // JS matches encodings by rid (q LOW, h MEDIUM, f HIGH); other rids go by position.
      const auto& rid = t->rids[i];
      auto quality = rid == "q" ? livekit::LOW
                     : rid == "h" ? livekit::MEDIUM
                     : rid == "f" ? livekit::HIGH
                                  : static_cast<livekit::VideoQuality>(std::min<size_t>(i, livekit::HIGH));
      bool enabled = mask & (1u << i);
      auto* q = codec->add_qualities();
      q->set_quality(quality);
      q->set_enabled(enabled);
      *update->add_subscribed_qualities() = *q;
    }
    send(r);
  }
}

// Loss feedback to the publisher (its loss-based bandwidth estimate needs it).
void Participant::send_receiver_reports(Clock::time_point now) {
  std::array<rtc::rtcp::ReportBlock, 31> blocks{};  // RFC 3550: at most 31 per packet
  size_t n = 0;
  for (auto& t : tracks_) {
    if (t->published && t->up) n += t->up->report_blocks(std::span(blocks).subspan(n), now);
  }
  if (n == 0) return;
  std::array<uint8_t, 8 + 31 * 24> rr{};
  size_t len = rtc::rtcp::build_receiver_report(rr, kRtcpSenderSsrc, std::span(blocks.data(), n));
  if (len) transport_->send_rtcp({rr.data(), len});
}

// Sender reports for every stream this participant receives, in its own numbering (RFC 3550
// §6.4.1): without them a browser cannot synchronise audio with video (no remote-outbound-rtp).
// Several SRs share one compound datagram.
void Participant::send_sender_reports(Clock::time_point now) {
  rtc::WebRtcTransport& transport = sub_transport_ ? *sub_transport_ : *transport_;
  constexpr size_t kSenderReportBytes = 28;  // header + sender info, no report blocks
  std::array<uint8_t, 1200> compound{};
  size_t used = 0;
  for (auto& sub : subscriptions_) {
    if (!sub->down) continue;
    auto info = sub->down->sender_report(now);
    if (!info) continue;
    if (used + kSenderReportBytes > compound.size()) {
      transport.send_rtcp({compound.data(), used});
      used = 0;
    }
    used += rtc::rtcp::build_sender_report(std::span(compound).subspan(used), *info, {});
  }
  if (used) transport.send_rtcp({compound.data(), used});
}

std::optional<double> Participant::take_loss() {
  std::optional<double> worst;
  for (auto& t : tracks_) {
    if (!t->published || !t->up) continue;
    if (auto loss = t->up->take_loss()) worst = std::max(worst.value_or(0.0), *loss);
  }
  return worst;
}

sfu::UpTrack::Level Participant::take_audio_level() {
  sfu::UpTrack::Level out;
  for (auto& t : tracks_) {
    if (!t->published || !t->up || t->up->video()) continue;
    auto level = t->up->take_level();
    if (t->info.muted()) continue;
    out.level = std::max(out.level, level.level);
    out.active = out.active || level.active;
  }
  return out;
}

// ---- signaling ------------------------------------------------------------------------------

void Participant::on_ws_message(std::string_view message) {
  room_.worker().check_owner("a Participant (signal message)");
  if (leaving_) return;
  const auto verdict = is_leave_request(message) ? SignalRateLimiter::Verdict::kAccept
                                                 : signal_rate_.admit(Clock::now());
  switch (verdict) {
    case SignalRateLimiter::Verdict::kAccept:
      break;
    case SignalRateLimiter::Verdict::kDrop:
      LimitCounters::bump(room_.limit_counters().signal_dropped);
      return;
    case SignalRateLimiter::Verdict::kDisconnect:
      // Flooding: this participant goes (the client is told why and does not reconnect); the
      // room and everyone else go on.
      LimitCounters::bump(room_.limit_counters().signal_disconnects);
      leaving_ = true;
      send_leave(livekit::PARTICIPANT_REMOVED, livekit::LeaveRequest::DISCONNECT);
      room_.defer_remove(identity(), sid_, livekit::PARTICIPANT_REMOVED, false);
      return;
  }
  livekit::SignalRequest request;
  if (!request.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
    // A malformed frame is dropped; the session goes on (spec: bad input never wedges).
    return;
  }
  // Boundary: whatever a request throws (bad SDP or similar) becomes a request_response error
  // for this request; the session and the room go on.
  if (auto caught = guarded([&] { handle(request); })) {
    room_.worker().note_caught("ws_message");
    auto level = caught->bad_input ? spdlog::level::warn : spdlog::level::err;
    room_.worker().log().log(level, "signal: request {} failed room={} identity={} sid={}: {}",
                             static_cast<int>(request.message_case()), room_.info().name(),
                             identity(), sid_, caught->message);
    livekit::SignalResponse r;
    auto* rr = r.mutable_request_response();
    if (request.has_update_metadata()) rr->set_request_id(request.update_metadata().request_id());
    rr->set_reason(caught->bad_input ? livekit::RequestResponse::INVALID_REQUEST
                                     : livekit::RequestResponse::UNCLASSIFIED_ERROR);
    rr->set_message(caught->bad_input ? caught->message : "internal error");
    send(r);
  }
}

void Participant::end_after_error(const Caught& caught) {
  leaving_ = true;
  livekit::SignalResponse r;
  auto* rr = r.mutable_request_response();
  rr->set_reason(caught.bad_input ? livekit::RequestResponse::INVALID_REQUEST
                                  : livekit::RequestResponse::UNCLASSIFIED_ERROR);
  rr->set_message(caught.bad_input ? caught.message : "internal error");
  send(r);
  send_leave(livekit::STATE_MISMATCH, livekit::LeaveRequest::RECONNECT);
}

// The signaling connection dropped without a leave: keep the session (media may still flow)
// for a resume; the room removes it if none comes in time, or at once once its media is silent
// too (signal/liveness.hpp).
void Participant::on_ws_closed() {
  if (leaving_) return;
  spdlog::info("room={} participant={} sid={} signal connection lost; kept for a resume", room_.info().name(), identity(), sid_);
  signal_lost_at_ = Clock::now();
}

void Participant::resume(std::shared_ptr<SignalSink> connection,
                         const std::vector<livekit::ParticipantInfo>& others) {
  spdlog::info("room={} participant={} sid={} resumed from {}", room_.info().name(), identity(), sid_, connection->remote_address());
  connection_->detach();
  connection_ = std::move(connection);
  connection_->set_listener(this);
  signal_lost_at_.reset();
  livekit::SignalResponse r;
  auto* rr = r.mutable_reconnect();
  fill_server_info(*rr->mutable_server_info());
  fill_ice_servers(room_.config(), turn_listeners(), identity(), unix_seconds(), *rr->mutable_ice_servers());
  fill_client_configuration(room_.config(), *rr->mutable_client_configuration());
  send(r);
  if (!others.empty()) send_update(others);
  send_update({info()});
  negotiation_requested_ = false;
  awaiting_answer_ = false;
  offer_again_ = false;
  if (!single_pc_ && sub_transport_ && sub_remote_set_) {
    // The server's ICE restart of the subscriber connection (the client restarts the publisher's
    // itself): new local credentials in a new offer, the client's come in its answer. Media keeps
    // going to the last validated address until the new checks arrive.
    std::string old_ufrag = sub_transport_->local_ice().ufrag;
    sub_transport_->restart_ice(rtc::generate_ice_credentials(), {});
    room_.worker().rekey(*sub_transport_, old_ufrag);
    send_subscriber_offer();
  }
}

void Participant::handle(const livekit::SignalRequest& req) {
  using R = livekit::SignalRequest;
  switch (req.message_case()) {
    case R::kOffer: handle_offer(req.offer()); break;
    case R::kAnswer: handle_answer(req.answer()); break;
    case R::kAddTrack: handle_add_track(req.add_track()); break;
    case R::kMute: handle_mute(req.mute()); break;
    case R::kSubscription: handle_subscription(req.subscription()); break;
    case R::kTrackSetting: handle_track_settings(req.track_setting()); break;
    case R::kSubscriptionPermission: handle_subscription_permission(req.subscription_permission()); break;
    case R::kUpdateMetadata: handle_update_metadata(req.update_metadata()); break;
    case R::kLeave:
      if (!leaving_) {
        leaving_ = true;
        room_.defer_remove(identity(), sid_, livekit::CLIENT_INITIATED, false);
      }
      break;
    case R::kPing: {
      livekit::SignalResponse r;
      r.set_pong(now_ms());
      send(r);
      break;
    }
    case R::kPingReq: {
      livekit::SignalResponse r;
      r.mutable_pong_resp()->set_last_ping_timestamp(req.ping_req().timestamp());
      r.mutable_pong_resp()->set_timestamp(now_ms());
      send(r);
      break;
    }
    case R::kTrickle:  // ICE-lite: the peer's addresses arrive as STUN checks
    default: break;
  }
}

void Participant::handle_add_track(const livekit::AddTrackRequest& req) {
  const auto& limits = room_.config().limit;
  auto reject = [&](livekit::RequestResponse::Reason reason, const std::string& message) {
    livekit::SignalResponse r;
    r.mutable_request_response()->set_reason(reason);
    r.mutable_request_response()->set_message(message);
    *r.mutable_request_response()->mutable_add_track() = echo_of(req, limits);
    send(r);
  };
  if (auto error = check_add_track(req, limits)) {
    LimitCounters::bump(room_.limit_counters().track_request);
    return reject(livekit::RequestResponse::LIMIT_EXCEEDED, *error);
  }
  const auto perm = permission_from(claims_);
  // Hidden participants stay undetectable, so they publish nothing (a monitor only watches).
  if (hidden()) {
    return reject(livekit::RequestResponse::NOT_ALLOWED, "hidden participants cannot publish");
  }
  if (!perm.can_publish()) return reject(livekit::RequestResponse::NOT_ALLOWED, "no permission to publish");
  if (perm.can_publish_sources_size() > 0 &&
      std::find(perm.can_publish_sources().begin(), perm.can_publish_sources().end(), req.source()) ==
          perm.can_publish_sources().end()) {
    return reject(livekit::RequestResponse::NOT_ALLOWED, "no permission to publish this source");
  }
  if (req.type() != livekit::AUDIO && req.type() != livekit::VIDEO) {
    return reject(livekit::RequestResponse::UNSUPPORTED_TYPE, "only audio and video tracks are supported");
  }
  // A further codec for a published track (simulcast codecs): each track is forwarded in the
  // codec it was published with, and no other is ever asked for (SubscribedQualityUpdate).
  if (!req.sid().empty()) {
    return reject(livekit::RequestResponse::UNSUPPORTED_TYPE, "a track is published in one codec");
  }
  // The same cid again: answer with the same track.
  for (const auto& t : tracks_) {
    if (t->cid == req.cid()) {
      livekit::SignalResponse r;
      r.mutable_track_published()->set_cid(req.cid());
      *r.mutable_track_published()->mutable_track() = t->info;
      send(r);
      return;
    }
  }
  // Pending requests count too: each one is held until its offer binds it.
  if (tracks_.size() >= limits.num_tracks) {
    LimitCounters::bump(room_.limit_counters().tracks);
    return reject(livekit::RequestResponse::LIMIT_EXCEEDED, "too many tracks");
  }

  auto t = std::make_unique<PublishedTrack>();
  t->cid = req.cid();
  auto& info = t->info;
  bool video = req.type() == livekit::VIDEO;
  info.set_sid(common::random_id(std::string("TR_") + (video ? "V" : "A") + source_letter(req.source())));
  info.set_type(req.type());
  info.set_name(req.name());
  info.set_muted(req.muted());
  info.set_source(req.source());
  info.set_disable_dtx(req.disable_dtx());
  info.set_stereo(req.stereo());
  info.set_disable_red(req.disable_red());
  info.set_stream(req.stream());
  info.set_encryption(req.encryption());
  for (int f : req.audio_features()) info.add_audio_features(static_cast<livekit::AudioTrackFeature>(f));
  // The codec it asks to publish with (livekit-client: `videoCodec`), if one we forward; the
  // announced type until its offer settles it.
  auto asked = req.simulcast_codecs_size() > 0 ? rtc::codec_from_name(req.simulcast_codecs(0).codec()) : rtc::Codec::kUnknown;
  bool forwarded = video ? asked == rtc::Codec::kVp8 || asked == rtc::Codec::kH264 : asked == rtc::Codec::kOpus;
  if (forwarded) t->requested = asked;
  std::string mime(rtc::codec_mime_type(forwarded ? asked : video ? rtc::Codec::kVp8 : rtc::Codec::kOpus));
  info.set_mime_type(mime);
  if (video) {
    info.set_width(req.width());
    info.set_height(req.height());
    std::vector<livekit::VideoLayer> layers(req.layers().begin(), req.layers().end());
    std::sort(layers.begin(), layers.end(), [](auto& a, auto& b) { return a.quality() < b.quality(); });
    for (auto& l : layers) *info.add_layers() = l;
    info.set_simulcast(layers.size() > 1);
  }
  auto* codec = info.add_codecs();
  codec->set_mime_type(mime);
  codec->set_cid(req.cid());
  for (const auto& l : info.layers()) *codec->add_layers() = l;

  const bool locked = server_muted_sources_.count(req.source()) > 0;
  if (locked) {
    t->server_muted = true;
    info.set_muted(true);
  }
  livekit::SignalResponse r;
  r.mutable_track_published()->set_cid(req.cid());
  *r.mutable_track_published()->mutable_track() = info;
  tracks_.push_back(std::move(t));
  send(r);
  if (locked) {  // the client mutes its new local track too
    livekit::SignalResponse m;
    m.mutable_mute()->set_sid(info.sid());
    m.mutable_mute()->set_muted(true);
    send(m);
  }
}

void Participant::handle_mute(const livekit::MuteTrackRequest& req) { set_track_muted(req.sid(), req.muted(), false); }

// A RoomService mute is enforced here, not only asked of the client: the track's UpTrack drops
// its media until RoomService unmutes, and the client's own unmute is refused meanwhile.
livekit::TrackInfo Participant::set_track_muted(const std::string& track_sid, bool muted, bool from_server) {
  auto* t = track(track_sid);
  if (!t) throw BadInput("track " + track_sid + " not found");
  auto tell_client = [&](bool m) {  // the client mutes (or unmutes) its local track and confirms
    livekit::SignalResponse r;
    r.mutable_mute()->set_sid(track_sid);
    r.mutable_mute()->set_muted(m);
    send(r);
  };
  if (from_server) {
    t->server_muted = muted;
    if (t->up) t->up->set_server_muted(muted, Clock::now());
    if (muted) server_muted_sources_.insert(t->info.source());
    else server_muted_sources_.erase(t->info.source());
    // LiveKit asks the client to unmute only with room.enable_remote_unmute; without it the
    // lock is lifted and the participant may unmute itself.
    if (!muted && !room_.config().room.enable_remote_unmute) return t->info;
    tell_client(muted);
  } else if (!muted && t->server_muted) {
    tell_client(true);  // refused: muted for everyone until RoomService unmutes
    return t->info;
  }
  if (t->info.muted() != muted) {
    t->info.set_muted(muted);
    ++version_;
    if (t->published) room_.broadcast_update(*this);
  }
  return t->info;
}

void Participant::handle_subscription(const livekit::UpdateSubscription& req) {
  std::vector<std::string> sids(req.track_sids().begin(), req.track_sids().end());
  for (const auto& pt : req.participant_tracks()) sids.insert(sids.end(), pt.track_sids().begin(), pt.track_sids().end());
  for (const auto& sid : room_.update_subscription(*this, sids, req.subscribe())) {
    livekit::SignalResponse r;
    r.mutable_subscription_response()->set_track_sid(sid);
    r.mutable_subscription_response()->set_err(livekit::SE_TRACK_NOTFOUND);
    send(r);
  }
}

// LiveKit's setTrackSubscriptionPermissions: the new state replaces the old one and takes effect
// at once for every subscriber (Room::track_permissions_changed). Over the bounds it is refused
// whole (the previous permissions stay) and counted; an entry naming nobody is a bad request.
void Participant::handle_subscription_permission(const livekit::SubscriptionPermission& req) {
  const auto& limits = room_.config().limit;
  auto identity_of = [this](const std::string& sid) -> std::optional<std::string> {
    if (auto* p = room_.find_by_sid(sid)) return p->identity();
    return std::nullopt;
  };
  if (!track_permissions_.update(req, {limits.max_track_permissions, limits.num_tracks}, identity_of)) {
    LimitCounters::bump(room_.limit_counters().track_permissions);
    livekit::SignalResponse r;
    r.mutable_request_response()->set_reason(livekit::RequestResponse::LIMIT_EXCEEDED);
    r.mutable_request_response()->set_message("too many track permissions");
    send(r);
    return;
  }
  room_.track_permissions_changed(*this);
}

// Spec §4.8: disabled pauses; otherwise the size (preferred) or quality caps the layer.
void Participant::handle_track_settings(const livekit::UpdateTrackSettings& req) {
  for (const auto& sid : req.track_sids()) {
    for (auto& s : subscriptions_) {
      if (s->track_sid != sid || !s->down || !s->track) continue;
      bool was_paused = s->down->paused();
      s->down->set_paused(req.disabled());
      s->down->set_max_layer(max_layer_for(s->track->info, req));
      if (!req.disabled() && was_paused) s->track->up->request_keyframe(*s->down, Clock::now(), true);
    }
  }
}

int Participant::max_layer_for(const livekit::TrackInfo& track, const livekit::UpdateTrackSettings& req) {
  int layers = std::max(1, track.layers_size());
  if (req.width() > 0 || req.height() > 0) {
    for (int i = 0; i < track.layers_size(); ++i) {
      const auto& l = track.layers(i);
      if (l.width() >= req.width() && l.height() >= req.height()) return i;
    }
    return layers - 1;
  }
  switch (req.quality()) {
    case livekit::LOW: return 0;
    case livekit::MEDIUM: return std::min(1, layers - 1);
    default: return layers - 1;
  }
}

void Participant::handle_update_metadata(const livekit::UpdateParticipantMetadata& req) {
  livekit::SignalResponse r;
  r.mutable_request_response()->set_request_id(req.request_id());
  *r.mutable_request_response()->mutable_update_metadata() = req;
  if (!claims_.video || !claims_.video->can_update_own_metadata) {
    r.mutable_request_response()->set_reason(livekit::RequestResponse::NOT_ALLOWED);
    r.mutable_request_response()->set_message("no permission to update own metadata");
    send(r);
    return;
  }
  const auto& limits = room_.config().limit;
  std::optional<std::string> error;
  if (req.metadata().size() > limits.max_metadata_size || req.name().size() > limits.max_participant_name_length) {
    error = "metadata or name too large";
  } else {
    error = check_attributes(claims_.attributes, req.attributes(), limits);
  }
  if (error) {
    LimitCounters::bump(room_.limit_counters().metadata);
    // Echo only the request id: the refused values can be large.
    r.mutable_request_response()->clear_update_metadata();
    r.mutable_request_response()->mutable_update_metadata()->set_request_id(req.request_id());
    r.mutable_request_response()->set_reason(livekit::RequestResponse::LIMIT_EXCEEDED);
    r.mutable_request_response()->set_message(*error);
    send(r);
    return;
  }
  if (!req.name().empty()) claims_.name = req.name();
  if (!req.metadata().empty()) claims_.metadata = req.metadata();
  for (const auto& [k, v] : req.attributes()) {
    if (v.empty()) claims_.attributes.erase(k);
    else claims_.attributes[k] = v;
  }
  ++version_;
  r.mutable_request_response()->set_reason(livekit::RequestResponse::OK);
  send(r);
  room_.broadcast_update(*this);
}

void Participant::update_from_server(const livekit::UpdateParticipantRequest& req) {
  const bool could_subscribe = can_subscribe();
  const bool was_hidden = hidden();
  if (!req.name().empty()) claims_.name = req.name();
  if (!req.metadata().empty()) claims_.metadata = req.metadata();
  for (const auto& [k, v] : req.attributes()) {
    if (v.empty()) claims_.attributes.erase(k);
    else claims_.attributes[k] = v;
  }
  if (req.has_permission()) {
    if (!claims_.video) claims_.video.emplace();
    auto& v = *claims_.video;
    const auto& p = req.permission();
    v.can_subscribe = p.can_subscribe();
    v.can_publish = p.can_publish();
    v.can_publish_data = p.can_publish_data();
    v.hidden = p.hidden();
    v.can_update_own_metadata = p.can_update_metadata();
    v.can_publish_sources.clear();
    for (int s : p.can_publish_sources()) {
      static const char* names[] = {"unknown", "camera", "microphone", "screen_share", "screen_share_audio"};
      if (s > 0 && s < 5) v.can_publish_sources.push_back(names[s]);
    }
  }
  ++version_;
  if (hidden() != was_hidden) room_.visibility_changed(*this);
  if (req.has_permission()) apply_permission(could_subscribe);
  room_.broadcast_update(*this);  // the participant itself learns its new permission
}

// A narrowed permission takes effect at once, as LiveKit's SetPermission does: tracks it no
// longer allows are unpublished, subscriptions go with canSubscribe (and come back with it for
// auto-subscribers), and data is checked per packet (Room::route_data).
void Participant::apply_permission(bool could_subscribe) {
  const auto perm = permission_from(claims_);
  std::vector<PublishedTrack*> revoked;
  for (auto& t : tracks_) {
    if (hidden() || !may_publish_source(perm, t->info.source())) revoked.push_back(t.get());
  }
  for (auto* t : revoked) unpublish_revoked(*t);
  if (!can_subscribe()) {
    std::vector<std::string> sids;
    for (const auto& s : subscriptions_) sids.push_back(s->track_sid);
    for (const auto& sid : sids) remove_subscription(sid);
  } else if (!could_subscribe && auto_subscribe_) {
    room_.subscribe_all(*this);
  }
  // hidden / roomAdmin may have changed: publishers' permissions apply to it, or no longer do.
  if (can_subscribe()) room_.recheck_track_permissions(*this);
}

// The track leaves the room (subscribers, the others' view, the track_unpublished webhook) and
// this participant (its media finds no track any more); the publisher is told to stop it.
void Participant::unpublish_revoked(PublishedTrack& track) {
  if (track.published) room_.on_track_unpublished(*this, track);
  livekit::SignalResponse r;
  r.mutable_track_unpublished()->set_track_sid(track.info.sid());
  send(r);
  std::erase_if(by_ssrc_, [&](const auto& entry) { return entry.second.first == &track; });
  std::erase_if(rtx_by_ssrc_, [&](const auto& entry) { return entry.second.first == &track; });
  std::erase_if(tracks_, [&](const auto& t) { return t.get() == &track; });
}

// ---- subscriptions --------------------------------------------------------------------------

void Participant::add_subscription(std::unique_ptr<Subscription> subscription) {
  subscriptions_.push_back(std::move(subscription));
  request_negotiation();
}

size_t Participant::subscription_count(livekit::TrackType type) const {
  return static_cast<size_t>(
      std::count_if(subscriptions_.begin(), subscriptions_.end(),
                    [&](auto& s) { return s->track && s->track->info.type() == type; }));
}

void Participant::send_permission_update(const std::string& publisher_sid, const std::string& track_sid,
                                         bool allowed) {
  livekit::SignalResponse r;
  auto* u = r.mutable_subscription_permission_update();
  u->set_participant_sid(publisher_sid);
  u->set_track_sid(track_sid);
  u->set_allowed(allowed);
  send(r);
}

void Participant::deny_track(const std::string& publisher_sid, const std::string& track_sid, bool tell_again) {
  bool fresh = denied_.emplace(track_sid, publisher_sid).second;
  if (started_ && (fresh || tell_again)) send_permission_update(publisher_sid, track_sid, false);
}

void Participant::allow_track(const std::string& publisher_sid, const std::string& track_sid) {
  if (denied_.erase(track_sid) == 0) return;
  send_permission_update(publisher_sid, track_sid, true);
}

bool Participant::subscribed_to(const std::string& track_sid) const {
  return std::any_of(subscriptions_.begin(), subscriptions_.end(), [&](auto& s) { return s->track_sid == track_sid; });
}

void Participant::remove_subscription(const std::string& track_sid) {
  denied_.erase(track_sid);
  bool changed = false;
  std::erase_if(subscriptions_, [&](std::unique_ptr<Subscription>& s) {
    if (s->track_sid != track_sid) return false;
    if (s->down) {
      if (s->track) s->track->up->remove(s->down.get());
      subscription_by_ssrc_.erase(s->ssrc);
    }
    changed = changed || !s->mid.empty();
    return true;
  });
  if (changed) request_negotiation();  // the section goes inactive in the next answer
}

void Participant::drop_all_subscriptions() {
  for (auto& s : subscriptions_) {
    if (s->down && s->track) s->track->up->remove(s->down.get());
  }
  subscriptions_.clear();
  subscription_by_ssrc_.clear();
  denied_.clear();
}

// ---- media ----------------------------------------------------------------------------------

// Subscriptions waiting for their first picture ask for it as soon as media can flow.
void Participant::request_first_keyframes() {
  auto now = Clock::now();
  for (auto& s : subscriptions_) {
    if (s->down && s->track && s->down->waiting_for_keyframe()) s->track->up->request_keyframe(*s->down, now, true);
  }
}

PeerActivity Participant::activity() const {
  PeerActivity a;
  a.created = created_;
  a.signal_lost_at = signal_lost_at_;
  a.media_connected = transport_->connected() || (sub_transport_ && sub_transport_->connected());
  a.last_heard[0] = transport_->last_received();
  if (sub_transport_) a.last_heard[1] = sub_transport_->last_received();
  // A requested resume counts until the peer is heard again.
  bool heard_since = std::any_of(a.last_heard.begin(), a.last_heard.end(), [&](const auto& h) {
    return h && resume_requested_at_ && *h > *resume_requested_at_;
  });
  if (!heard_since) a.resume_requested_at = resume_requested_at_;
  return a;
}

void Participant::request_resume(Clock::time_point now) {
  spdlog::info("room={} participant={} sid={} heard nothing on its media connection with the signal open: asked to resume",
               room_.info().name(), identity(), sid_);
  resume_requested_at_ = now;
  send_leave(livekit::MEDIA_FAILURE, livekit::LeaveRequest::RESUME);
}

void Participant::on_subscriber_connected() {
  spdlog::info("room={} participant={} sid={} subscriber connection up", room_.info().name(), identity(), sid_);
  request_first_keyframes();
  state_ = livekit::ParticipantInfo::ACTIVE;
  ++version_;
  room_.broadcast_update(*this);
}

void Participant::on_transport_connected() {
  spdlog::info("room={} participant={} sid={} {} connection up", room_.info().name(), identity(), sid_,
               single_pc_ ? "media" : "publisher");
  if (!single_pc_) return;  // v0: the subscriber PC is primary
  request_first_keyframes();
  state_ = livekit::ParticipantInfo::ACTIVE;
  ++version_;
  room_.broadcast_update(*this);
}

void Participant::on_transport_closed(const std::string& reason) {
  if (leaving_) return;
  spdlog::warn("room={} participant={} sid={} media connection failed: {}", room_.info().name(), identity(), sid_, reason);
  leaving_ = true;
  send_leave(livekit::MEDIA_FAILURE, livekit::LeaveRequest::RECONNECT);
  room_.defer_remove(identity(), sid_, livekit::MEDIA_FAILURE, false);
}

// ---- data ------------------------------------------------------------------------------------

void Participant::on_data_channel_open(uint16_t stream, const std::string& label) {
  if (label == "_reliable") pub_channels_.reliable = stream;
  else if (label == "_lossy") pub_channels_.lossy = stream;
}

void Participant::on_data_channel_closed(uint16_t stream) {
  if (pub_channels_.reliable == stream) pub_channels_.reliable.reset();
  if (pub_channels_.lossy == stream) pub_channels_.lossy.reset();
}

void Participant::on_data_message(uint16_t stream, std::span<const uint8_t> data, bool) {
  room_.worker().check_owner("a Participant (data channel message)");
  // SCTP enforces the size too; the rate is ours (limit.data_packets_per_second, _bytes_).
  if (data.size() > room_.config().limit.max_data_packet_bytes ||
      !data_rate_.admit(data.size(), Clock::now())) {
    LimitCounters::bump(room_.limit_counters().data_dropped);
    return;
  }
  livekit::DataPacket packet;
  if (!packet.ParseFromArray(data.data(), static_cast<int>(data.size()))) return;
  bool reliable = pub_channels_.lossy != stream;
  // Spec §4.10 rule 3: reliable packets with a sequence are de-duplicated per sender.
  if (reliable && packet.sequence() > 0) {
    if (packet.sequence() <= last_data_sequence_) return;
    last_data_sequence_ = packet.sequence();
  }
  room_.route_data(*this, std::move(packet), reliable);
}

bool Participant::send_data(const livekit::DataPacket& packet, bool reliable) {
  auto* transport = sub_transport_ ? sub_transport_.get() : transport_.get();
  auto& channels = sub_transport_ ? sub_channels_ : pub_channels_;
  auto stream = reliable ? channels.reliable : channels.lossy;
  if (!stream) stream = reliable ? channels.lossy : channels.reliable;
  if (!stream) return false;
  auto bytes = packet.SerializeAsString();
  return transport->send_data(*stream, common::as_bytes(bytes), true);
}

// An SSRC not seen before: its section from the mid extension, its layer from the rid (or, on an
// RTX stream, the repaired rid; RTX also by its payload type when there are no rids).
bool Participant::bind_ssrc(const rtc::RtpPacketView& p) {
  if (!mid_ext_) return false;
  auto mid = p.extension(static_cast<uint8_t>(mid_ext_));
  if (!mid) return false;
  std::string_view mid_text(reinterpret_cast<const char*>(mid->data()), mid->size());
  for (auto& t : tracks_) {
    if (t->mid.empty() || t->mid != mid_text) continue;
    bool rtx = t->rtx_payload_type >= 0 && p.payload_type() == t->rtx_payload_type;
    int layer = 0;
    if (!t->rids.empty()) {
      int ext = rtx ? repaired_rid_ext_ : rid_ext_;
      if (!ext) return false;
      auto rid = p.extension(static_cast<uint8_t>(ext));
      if (!rid) return false;
      std::string_view rid_text(reinterpret_cast<const char*>(rid->data()), rid->size());
      auto it = std::find(t->rids.begin(), t->rids.end(), rid_text);
      if (it == t->rids.end()) return false;
      layer = static_cast<int>(it - t->rids.begin());
    }
    // One SSRC per layer (and one RTX SSRC): a stream that replaces another takes its place, so
    // SSRCs a client invents never pile up.
    auto& table = rtx ? rtx_by_ssrc_ : by_ssrc_;
    std::erase_if(table, [&](const auto& e) { return e.second.first == t.get() && e.second.second == layer; });
    table[p.ssrc()] = {t.get(), layer};
    return true;
  }
  return false;
}

void Participant::on_rtp(rtc::RtpPacketView& packet) {
  room_.worker().check_owner("a Participant (RTP from its transport)");
  if (twcc_ext_) record_transport_sequence(packet);
  auto it = by_ssrc_.find(packet.ssrc());
  if (it == by_ssrc_.end()) {
    auto rtx = rtx_by_ssrc_.find(packet.ssrc());
    if (rtx == rtx_by_ssrc_.end()) {  // a new SSRC: bound to a layer's media or RTX stream, or dropped
      if (!bind_ssrc(packet)) return;
      it = by_ssrc_.find(packet.ssrc());
      rtx = rtx_by_ssrc_.find(packet.ssrc());
    }
    if (rtx != rtx_by_ssrc_.end()) return on_rtx(packet, *rtx->second.first, rtx->second.second);
    if (it == by_ssrc_.end()) return;
  }
  auto [track, layer] = it->second;
  if (!track->up || !track->published) return;
  if (audio_level_ext_ && !track->up->video()) {
    if (auto level = packet.extension(static_cast<uint8_t>(audio_level_ext_)); level && !level->empty()) {
      track->up->note_audio_level((*level)[0] & 0x7F, ((*level)[0] & 0x80) != 0);
    }
  }
  track->up->on_packet(packet, layer, Clock::now());
}

// A packet of a layer's RTX stream: padding-only ones (bandwidth probes) end here; the others
// become the original packet again (in place) and repair the layer.
void Participant::on_rtx(rtc::RtpPacketView& packet, PublishedTrack& track, int layer) {
  if (!track.up || !track.published || packet.payload_type() != track.rtx_payload_type) return;
  if (packet.payload().size() <= 2) return;
  uint32_t original_ssrc = track.up->layer_ssrc(layer);
  if (!original_ssrc || track.codec.payload_type < 0) return;
  auto length = rtc::rtx_unwrap(packet.bytes(), static_cast<uint8_t>(track.codec.payload_type), original_ssrc);
  if (!length) return;
  auto original = rtc::RtpPacketView::parse(packet.bytes().first(*length));
  if (original) track.up->on_repaired_packet(*original, layer, Clock::now());
}

// Transport-wide CC: every packet carrying the extension counts, whichever stream it is on.
void Participant::record_transport_sequence(const rtc::RtpPacketView& packet) {
  auto value = packet.extension(static_cast<uint8_t>(twcc_ext_));
  if (!value || value->size() < 2) return;
  auto now = Clock::now();
  twcc_.on_packet(static_cast<uint16_t>(((*value)[0] << 8) | (*value)[1]), packet.ssrc(), now);
  if (!twcc_.due(now)) return;
  std::array<uint8_t, rtc::rtcp::TwccFeedbackBuilder::kMaxSize> feedback{};
  if (size_t n = twcc_.build_feedback(feedback, kRtcpSenderSsrc, now)) transport_->send_rtcp({feedback.data(), n});
}

void Participant::on_rtcp(std::span<const uint8_t> compound) {
  room_.worker().check_owner("a Participant (RTCP from its transport)");
  rtc::rtcp::CompoundIterator it(compound);
  while (auto h = it.next()) {
    if (h->type == rtc::rtcp::kSenderReport) {
      if (auto sr = rtc::rtcp::read_sender_report(*h)) {
        if (auto t = by_ssrc_.find(sr->ssrc); t != by_ssrc_.end() && t->second.first->up) {
          t->second.first->up->on_sender_report(sr->ssrc, sr->ntp_time, sr->rtp_time, Clock::now());
        }
      }
      continue;
    }
    if (h->type == rtc::rtcp::kRtpFeedback && h->count == rtc::rtcp::kFmtTransportCc) {
      on_transport_feedback(*h, Clock::now());
      continue;
    }
    if (h->type == rtc::rtcp::kRtpFeedback && h->count == rtc::rtcp::kFmtNack) {
      auto ids = rtc::rtcp::read_feedback_ids(*h);
      if (!ids) continue;
      auto s = subscription_by_ssrc_.find(ids->media_ssrc);
      if (s == subscription_by_ssrc_.end() || !s->second->down || !s->second->track) continue;
      auto& sub = *s->second;
      rtc::rtcp::for_each_nack(*h, [&](uint16_t seq) { sub.down->retransmit(seq, *sub.track->up); });
      continue;
    }
    if (h->type != rtc::rtcp::kPayloadFeedback) continue;
    if (h->count == rtc::rtcp::kFmtPli) {
      auto ids = rtc::rtcp::read_feedback_ids(*h);
      if (!ids) continue;
      auto s = subscription_by_ssrc_.find(ids->media_ssrc);
      if (s != subscription_by_ssrc_.end() && s->second->track) s->second->track->up->request_keyframe(*s->second->down, Clock::now());
    } else if (h->count == rtc::rtcp::kFmtFir) {
      rtc::rtcp::for_each_fir(*h, [&](uint32_t media_ssrc, uint8_t) {
        auto s = subscription_by_ssrc_.find(media_ssrc);
        if (s != subscription_by_ssrc_.end() && s->second->track) {
          s->second->track->up->request_keyframe(*s->second->down, Clock::now());
        }
      });
    }
  }
}

}  // namespace parlor::signal
