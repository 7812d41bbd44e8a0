#pragma once
// A LiveKit room on one media worker: its participants, their published tracks and who
// receives what. The room implements LiveKit's rules (spec §3, §4): join and replace-by-identity,
// hidden participants, grants, track publication, auto-subscribe, subscription permissions, mute,
// leave, and the participant updates that must precede the media they describe.
//
// Threading: worker thread only. Ownership: Room → Participant (unique_ptr) → its transport,
// published tracks (UpTrack) and subscriptions (DownTrack). A Participant leaving removes its
// subscriptions from publishers and its tracks from subscribers before it is destroyed.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/auth/access_token.hpp"
#include "common/config/media_config.hpp"
#include "livekit_models.pb.h"
#include "livekit_rtc.pb.h"
#include "sfu/worker.hpp"
#include "signal/limits.hpp"
#include "signal/liveness.hpp"
#include "signal/participant.hpp"
#include "signal/recording_taps.hpp"

namespace parlor::signal {

// Events the room reports to the node (webhooks, room registry). Called on the worker thread;
// implementations must not call back into the room synchronously.
class RoomListener {
 public:
  virtual ~RoomListener() = default;
  virtual void on_participant_joined(const livekit::Room& room, const livekit::ParticipantInfo& p) = 0;
  virtual void on_participant_left(const livekit::Room& room, const livekit::ParticipantInfo& p) = 0;
  virtual void on_track_published(const livekit::Room& room, const livekit::ParticipantInfo& p,
                                  const livekit::TrackInfo& track) = 0;
  virtual void on_track_unpublished(const livekit::Room& room, const livekit::ParticipantInfo& p,
                                    const livekit::TrackInfo& track) = 0;
  // `participants` leaves hidden ones out (it is the room's num_participants); `present` counts
  // everyone connected, hidden monitors too (the room stays open while anyone is there).
  virtual void on_participant_count(const std::string& room, uint32_t participants,
                                    uint32_t publishers, uint32_t present) = 0;
};

class Room {
 public:
  Room(livekit::Room info, const config::MediaConfig& config, sfu::Worker& worker,
       RoomListener& listener, LimitCounters& counters);
  ~Room();

  // Adds a participant for an accepted signaling connection (replacing one with the same
  // identity) and sends the JoinResponse.
  Participant& join(JoinParams params, std::shared_ptr<SignalSink> connection);
  // Removes and destroys the participant; announces it to the others.
  void remove(const std::string& identity, livekit::DisconnectReason reason, bool notify_client);
  void close(livekit::DisconnectReason reason);
  // remove() from a posted task, so a participant can ask to be removed from inside its own
  // callbacks. Ignored if the identity has meanwhile been taken by a new session.
  void defer_remove(const std::string& identity, const std::string& sid, livekit::DisconnectReason reason,
                    bool notify_client);

  Participant* find(const std::string& identity);
  Participant* find_by_sid(const std::string& sid);
  const livekit::Room& info() const { return info_; }
  void set_info(const livekit::Room& info);
  bool empty() const { return participants_.empty(); }
  // Among the active speakers announced last (its video is served first when a downlink is short).
  bool speaking(const std::string& sid) const { return speakers_.count(sid) > 0; }
  std::vector<livekit::ParticipantInfo> participant_infos(bool include_hidden) const;

  // Called by participants.
  void broadcast_update(Participant& changed);
  void on_track_published(Participant& publisher, PublishedTrack& track);
  void on_track_unpublished(Participant& publisher, PublishedTrack& track);
  bool subscribe(Participant& subscriber, Participant& publisher, PublishedTrack& track);
  // Subscribes to everything the others publish (canSubscribe granted again).
  void subscribe_all(Participant& subscriber);
  // The participant's hidden flag changed (UpdateParticipant): the others see it leave or arrive.
  void visibility_changed(Participant& changed);
  void unsubscribe(Participant& subscriber, const std::string& track_sid);
  // Subscription permissions (signal/track_permissions.hpp). The publisher changed who may
  // receive its tracks: subscribers no longer allowed lose the track at once and are told
  // allowed:false; ones refused before and now allowed are told allowed:true and subscribed.
  void track_permissions_changed(Participant& publisher);
  // The subscriber's grants changed (hidden, roomAdmin): the same check against every publisher.
  void recheck_track_permissions(Participant& subscriber);
  // Whether the publisher's permissions let `subscriber` receive `track`.
  static bool may_receive(const Participant& subscriber, const Participant& publisher, const PublishedTrack& track);
  // UpdateSubscription (client or RoomService): (un)subscribes `subscriber` to the published
  // tracks with these sids. Returns the sids no other participant publishes.
  std::vector<std::string> update_subscription(Participant& subscriber, const std::vector<std::string>& track_sids,
                                               bool subscribe);
  void route_data(Participant& from, livekit::DataPacket packet, bool reliable);
  void send_data(const livekit::DataPacket& packet, const std::vector<std::string>& identities, bool reliable);
  // Every few hundred ms: participants' liveness (signal/liveness.hpp: dead peers, failed
  // transports, resume and connect deadlines), token refresh, active speakers (spec §4.9,
  // LiveKit cadence 400 ms), and connection quality every 5 s (sent on change).
  void tick(std::chrono::steady_clock::time_point now);

  // Recording taps on this room's tracks (signal/recording_taps.hpp; the Egress service's).
  RecordingTaps& recording_taps() { return taps_; }
  // Every published track of the room, with its publisher (for a room composite recording).
  std::vector<std::pair<Participant*, PublishedTrack*>> published_tracks();

  const config::MediaConfig& config() const { return config_; }
  sfu::Worker& worker() { return worker_; }
  RoomListener& listener() { return listener_; }
  LimitCounters& limit_counters() { return counters_; }

 private:
  void report_count();
  // Removes the participants judge_liveness() gives up on.
  void check_liveness(std::chrono::steady_clock::time_point now);
  uint32_t visible_count() const;  // num_participants: hidden participants are not counted
  // subscription_limit_video / _audio: false (and counted) when `subscriber` may take no more.
  bool within_subscription_limit(Participant& subscriber, const PublishedTrack& track);
  void reconcile_permissions(Participant& subscriber, Participant& publisher);

  livekit::Room info_;
  const config::MediaConfig& config_;
  sfu::Worker& worker_;
  RoomListener& listener_;
  LimitCounters& counters_;
  const LivenessTimeouts liveness_;
  std::map<std::string, std::unique_ptr<Participant>> participants_;  // by identity
  std::map<std::string, float> speakers_;  // participant sid → level, currently speaking
  std::map<std::string, livekit::ConnectionQuality> quality_;
  std::set<std::string> quality_sent_;
  std::chrono::steady_clock::time_point last_quality_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards deferred tasks
  // Declared last, destroyed first: its taps leave the tracks before any participant goes.
  RecordingTaps taps_;
};

}  // namespace parlor::signal
