#pragma once
// One participant of a room: its signaling connection (a pump), its peer connection (one
// WebRtcTransport in single-PC mode, spec §4.1 v1), the tracks it publishes and the tracks it
// receives. Handles the SignalRequests of spec §2.6 and the offer/answer of §4.5–4.7: the client
// offers, we answer; when we need more receiving sections we ask with media_sections_requirement.
//
// Threading: worker thread only. Lifetime: owned by its Room; never destroys itself (it asks the
// room to remove it with Room::defer_remove).
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/auth/access_token.hpp"
#include "common/boundary.hpp"
#include "livekit_models.pb.h"
#include "livekit_room.pb.h"
#include "livekit_rtc.pb.h"
#include "rtc/sdp/session_description.hpp"
#include "rtc/transport/webrtc_transport.hpp"
#include "sfu/down_track.hpp"
#include "sfu/subscriber_congestion.hpp"
#include "sfu/twcc_recorder.hpp"
#include "sfu/up_track.hpp"
#include "signal/ice_servers.hpp"
#include "signal/signal_sink.hpp"
#include "signal/limits.hpp"
#include "signal/liveness.hpp"
#include "signal/track_permissions.hpp"

namespace parlor::signal {

class Room;

struct JoinParams {
  auth::ClaimGrants claims;
  bool single_pc = true;  // /rtc/v1
  bool auto_subscribe = true;
  bool adaptive_stream = false;
  livekit::ClientInfo client;
  std::optional<livekit::SessionDescription> publisher_offer;
  std::vector<livekit::AddTrackRequest> add_tracks;
  bool resume = false;      // the client asks to resume a session (spec §3.5)
  std::string resume_sid;   // ... this one
};

class Participant;

// The congestion controller for one participant's downlink, configured from rtc.congestion_control.
std::unique_ptr<sfu::SubscriberCongestion> make_subscriber_congestion(const config::MediaConfig& config);

struct PublishedTrack {
  livekit::TrackInfo info;
  std::string cid;
  std::string mid;                // the publishing section; empty until the offer binds it
  std::vector<std::string> rids;  // simulcast rids in layer order (lowest first)
  rtc::Codec requested = rtc::Codec::kUnknown;  // AddTrackRequest.simulcast_codecs[0], if one we forward
  rtc::SdpCodec codec;            // as negotiated in the publisher's offer (name empty until then)
  int rtx_payload_type = -1;      // its RTX stream's, when negotiated (video)
  int red_payload_type = -1;      // Opus RED's, when negotiated (audio, unless disable_red)
  std::unique_ptr<sfu::UpTrack> up;
  bool published = false;         // announced to the room
  bool server_muted = false;      // muted through RoomService: the client cannot unmute it
  uint32_t announced_layers = 0;  // dynacast: the layer mask last sent to the publisher
};

struct Subscription {
  Participant* publisher = nullptr;  // non-owning; the room removes subscriptions first
  PublishedTrack* track = nullptr;
  std::string track_sid;
  std::string mid;  // receiving section in the subscriber's PC; empty until assigned
  uint32_t ssrc = 0;
  rtc::SdpCodec codec;  // what the subscriber receives it as (its payload type)
  std::optional<rtc::SdpCodec> rtx;  // its RTX codec, when the subscriber takes one (video)
  std::optional<rtc::SdpCodec> red;  // Opus RED, when the publisher sends it and the subscriber takes it
  // The subscriber offered sections of this kind but none with the track's codec: it was told
  // (SubscriptionResponse SE_CODEC_UNSUPPORTED) and no more sections are asked for it.
  bool codec_unsupported = false;
  std::unique_ptr<sfu::DownTrack> down;
};

class Participant : public rtc::WebRtcTransport::Listener, public SignalSink::Listener {
 public:
  using Clock = std::chrono::steady_clock;

  Participant(Room& room, JoinParams params, std::shared_ptr<SignalSink> connection);
  ~Participant() override;

  // Sends the JoinResponse and answers the offer that came with the join request.
  void start(const std::vector<livekit::ParticipantInfo>& others);
  // A new signaling connection for this session (resume): ReconnectResponse, then the current
  // state of the others. The client follows with an ICE-restart offer.
  void resume(std::shared_ptr<SignalSink> connection,
              const std::vector<livekit::ParticipantInfo>& others);
  // Since when the signaling connection is gone (nullopt while connected).
  std::optional<Clock::time_point> signal_lost_at() const { return signal_lost_at_; }

  const std::string& sid() const { return sid_; }
  const std::string& identity() const { return claims_.identity; }
  bool hidden() const { return claims_.video && claims_.video->hidden; }
  bool can_subscribe() const { return claims_.video && claims_.video->effective_can_subscribe(); }
  // Publishers' subscription permissions do not apply to it (signal/track_permissions.hpp):
  // staff monitors (hidden), recorders and room admins receive everything they subscribe to.
  bool bypasses_track_permissions() const {
    return claims_.video && (claims_.video->hidden || claims_.video->recorder || claims_.video->room_admin);
  }
  // Who may receive this participant's tracks (its subscription_permission request).
  const TrackPermissions& track_permissions() const { return track_permissions_; }
  // A hidden participant publishes nothing (its data would carry its sid to the others).
  bool can_publish_data() const {
    return claims_.video && claims_.video->effective_can_publish_data() && !hidden();
  }
  bool auto_subscribe() const { return auto_subscribe_; }
  bool single_pc() const { return single_pc_; }
  const livekit::ClientInfo& client() const { return client_; }
  std::string remote_address() const { return connection_ ? connection_->remote_address() : std::string(); }
  bool connected() const { return transport_->connected(); }
  // Its signal and transport activity, for the room's liveness check (signal/liveness.hpp).
  PeerActivity activity() const;
  // A transport went silent with the WebSocket open: leave{MEDIA_FAILURE, RESUME}.
  void request_resume(Clock::time_point now);
  Clock::time_point created() const { return created_; }
  livekit::ParticipantInfo info() const;
  std::vector<PublishedTrack*> published_tracks();
  PublishedTrack* track(const std::string& sid);
  size_t publisher_track_count() const;

  void send(const livekit::SignalResponse& message);
  // A DataPacket to this participant's client on a channel of the given kind (spec §4.10).
  bool send_data(const livekit::DataPacket& packet, bool reliable);
  void send_leave(livekit::DisconnectReason reason, livekit::LeaveRequest::Action action);
  // The session failed (an exception reached its boundary): a request_response error, then the
  // leave LiveKit sends when negotiation fails (STATE_MISMATCH, full reconnect). The caller
  // removes it.
  void end_after_error(const Caught& caught);
  void close_connection();
  void send_update(const std::vector<livekit::ParticipantInfo>& infos);

  // Periodic work on the room's tick (token refresh).
  void tick(Clock::time_point now);
  // Interval statistics of its published media (each call starts a new interval): the worst
  // loss fraction (nullopt if nothing arrived), and the loudest unmuted audio.
  std::optional<double> take_loss();
  sfu::UpTrack::Level take_audio_level();

  // Receiving side, called by the room.
  void add_subscription(std::unique_ptr<Subscription> subscription);
  void remove_subscription(const std::string& track_sid);
  bool subscribed_to(const std::string& track_sid) const;
  size_t subscription_count(livekit::TrackType type) const;
  void drop_all_subscriptions();
  // Subscription permissions, receiving side: a track it wants but may not receive is remembered
  // (until it unsubscribes or the track goes) and the client told allowed:false; allow_track()
  // forgets it and tells allowed:true. Told after the JoinResponse if it happens during the join.
  void deny_track(const std::string& publisher_sid, const std::string& track_sid, bool tell_again);
  bool denied(const std::string& track_sid) const { return denied_.count(track_sid) > 0; }
  void allow_track(const std::string& publisher_sid, const std::string& track_sid);

  // Moderation (RoomService).
  livekit::TrackInfo set_track_muted(const std::string& track_sid, bool muted, bool from_server);
  // Applies RoomService UpdateParticipant; a changed permission takes effect at once.
  void update_from_server(const livekit::UpdateParticipantRequest& request);
  void bump_version() { ++version_; }
  // Its downlink's estimate (downstream congestion control, signal/congestion.cpp).
  const sfu::SendSideBwe& downlink_estimate() const { return congestion_->bwe(); }
  livekit::ParticipantInfo::State state() const { return state_; }

 private:
  // SignalSink::Listener
  void on_ws_message(std::string_view message) override;
  void on_ws_closed() override;
  // WebRtcTransport::Listener
  void on_transport_connected() override;
  void on_transport_closed(const std::string& reason) override;
  void on_rtp(rtc::RtpPacketView& packet) override;
  void on_rtcp(std::span<const uint8_t> compound) override;
  void on_data_channel_open(uint16_t stream, const std::string& label) override;
  void on_data_message(uint16_t stream, std::span<const uint8_t> data, bool binary) override;
  void on_data_channel_closed(uint16_t stream) override;
  void on_transport_timer(Clock::time_point now) override {
    if (single_pc_) pace_probe(now);
  }
  void on_subscriber_connected();
  void request_first_keyframes();

  void handle(const livekit::SignalRequest& request);
  void handle_add_track(const livekit::AddTrackRequest& request);
  void handle_offer(const livekit::SessionDescription& offer);
  void handle_answer(const livekit::SessionDescription& answer);
  // The announced track an offered sendonly section publishes (spec §4.5 step 4), not yet bound.
  PublishedTrack* track_for_section(const rtc::SdpMedia& section);
  void bind_section(PublishedTrack& track, const rtc::SdpMedia& section, const rtc::SdpCodec& codec);
  // The subscription a receiving section `section` carries: the one it carried before, or a
  // waiting one of its kind whose codec the section offers (attached here).
  Subscription* assign_slot(const rtc::SdpMedia& section, rtc::WebRtcTransport& transport);
  void refuse_undecodable_subscriptions();
  void add_send_attributes(rtc::SdpMedia& section, const Subscription& sub) const;
  void attach(Subscription& sub, const std::string& mid, const rtc::SdpCodec& codec,
              const std::optional<rtc::SdpCodec>& rtx, rtc::WebRtcTransport& transport);
  void on_rtx(rtc::RtpPacketView& packet, PublishedTrack& track, int layer);
  void send_subscriber_offer();
  void handle_mute(const livekit::MuteTrackRequest& request);
  void handle_subscription(const livekit::UpdateSubscription& request);
  void handle_track_settings(const livekit::UpdateTrackSettings& request);
  void handle_subscription_permission(const livekit::SubscriptionPermission& request);
  void send_permission_update(const std::string& publisher_sid, const std::string& track_sid, bool allowed);
  static int max_layer_for(const livekit::TrackInfo& track, const livekit::UpdateTrackSettings& request);
  void handle_update_metadata(const livekit::UpdateParticipantMetadata& request);
  void apply_permission(bool could_subscribe);
  void unpublish_revoked(PublishedTrack& track);
  void request_negotiation();
  void send_refresh_token();
  void fill_server_info(livekit::ServerInfo& info) const;
  TurnListeners turn_listeners();
  void send_receiver_reports(Clock::time_point now);
  void send_sender_reports(Clock::time_point now);
  void record_transport_sequence(const rtc::RtpPacketView& packet);
  void send_subscribed_qualities();
  bool bind_ssrc(const rtc::RtpPacketView& packet);
  // Downstream congestion control (signal/congestion.cpp).
  int transport_cc_ext() const { return single_pc_ ? twcc_ext_ : sub_twcc_ext_; }
  void apply_transport_cc();
  void on_transport_feedback(const rtc::rtcp::Header& header, Clock::time_point now);
  void run_congestion_control(Clock::time_point now);
  // A bandwidth probe in progress: padding on one of its video DownTracks (on the transport timer).
  void pace_probe(Clock::time_point now);
  void publish_congestion_metrics(bool leaving);

  Room& room_;
  auth::ClaimGrants claims_;
  std::string sid_;
  bool single_pc_;
  bool auto_subscribe_;
  bool adaptive_stream_;
  livekit::ClientInfo client_;
  std::optional<livekit::SessionDescription> initial_offer_;
  std::shared_ptr<SignalSink> connection_;
  std::unique_ptr<rtc::WebRtcTransport> transport_;      // publisher PC (v0) or the only PC (v1)
  class SubscriberEvents;
  std::unique_ptr<SubscriberEvents> sub_events_;
  std::unique_ptr<rtc::WebRtcTransport> sub_transport_;  // v0 subscriber PC (we offer)
  Clock::time_point created_ = Clock::now();
  int64_t joined_at_ms_ = 0;

  uint32_t version_ = 1;
  livekit::ParticipantInfo::State state_ = livekit::ParticipantInfo::JOINING;
  bool remote_set_ = false;
  std::string remote_ufrag_;
  std::optional<Clock::time_point> signal_lost_at_;
  std::optional<Clock::time_point> resume_requested_at_;
  bool leaving_ = false;

  // publishing
  std::vector<std::unique_ptr<PublishedTrack>> tracks_;
  std::unordered_map<uint32_t, std::pair<PublishedTrack*, int>> by_ssrc_;  // → (track, layer)
  // RTX streams of published layers, the same way; at most one per layer (a new one replaces it).
  std::unordered_map<uint32_t, std::pair<PublishedTrack*, int>> rtx_by_ssrc_;
  // Sources with a RoomService mute in force: a track republished for one starts server-muted,
  // so unpublishing and publishing again does not get around the mute.
  std::set<int> server_muted_sources_;
  TrackPermissions track_permissions_;  // default: everyone may subscribe
  int mid_ext_ = 0, rid_ext_ = 0, repaired_rid_ext_ = 0, audio_level_ext_ = 0, twcc_ext_ = 0;
  sfu::TwccRecorder twcc_;  // transport-cc feedback for what the client publishes

  // downstream congestion control: declared before the subscriptions, whose DownTracks record
  // into its estimator, so it outlives them
  std::unique_ptr<sfu::SubscriberCongestion> congestion_;
  int sub_twcc_ext_ = 0;  // v0: the transport-cc id the subscriber's answer accepted
  std::vector<sfu::SubscriberCongestion::Entry> cc_entries_;         // scratch, per tick
  std::vector<sfu::SubscriberCongestion::PauseChange> cc_changes_;  // scratch, per tick
  int64_t published_estimate_ = 0;  // what this participant added to the estimate gauge
  bool published_counted_ = false;
  bool published_congested_ = false;
  sfu::SubscriberCongestion::ProbeCounters published_probes_;  // what it added to the probe counters

  // receiving
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
  std::unordered_map<uint32_t, Subscription*> subscription_by_ssrc_;
  struct Slot {
    std::string mid;
    std::string kind;
    rtc::SdpMedia offered;  // the section as offered (its codecs decide what it can carry)
  };
  // Tracks it wants but their publishers' permissions refuse: track sid → publisher sid. Bounded
  // by the tracks published in the room (entries go with the track or an unsubscribe).
  std::map<std::string, std::string> denied_;
  std::vector<Slot> free_slots_;  // recvonly sections of the last offer with nothing assigned
  bool negotiation_requested_ = false;
  bool started_ = false;  // JoinResponse sent
  // v0 subscriber PC negotiation
  struct SubSection {
    std::string mid;
    std::string kind;
    bool used = false;
  };
  std::vector<SubSection> sub_sections_;
  bool sub_remote_set_ = false;
  bool awaiting_answer_ = false;
  bool offer_again_ = false;
  uint32_t offer_id_ = 0;
  uint64_t sub_version_ = 0;
  // data channels by kind, per PC (v1 uses the client's on the one PC)
  struct DataChannels {
    std::optional<uint16_t> reliable, lossy;
  };
  DataChannels pub_channels_, sub_channels_;
  uint32_t last_data_sequence_ = 0;
  // limit.signal_messages_per_second / signal_burst and limit.data_* (signal/limits.hpp)
  SignalRateLimiter signal_rate_;
  DataRateLimiter data_rate_;
  Clock::time_point last_refresh_{};
  Clock::time_point last_receiver_report_{};
};

}  // namespace parlor::signal
