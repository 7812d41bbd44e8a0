#pragma once
// Who may receive a publisher's tracks: the state behind SignalRequest.subscription_permission
// (LiveKit's LocalParticipant.setTrackSubscriptionPermissions). LiveKit's rule
// (pkg/rtc/uptrackmanager.go): no request yet, or all_participants, allows everyone; otherwise a
// subscriber needs an entry naming its identity with all_tracks or the track's sid in track_sids.
// An entry may name a participant by sid instead: the sid is resolved to that participant's
// identity when the request arrives (so the entry outlives a reconnect under a new sid; an
// unknown sid is skipped); one naming neither is a bad request. Tracks published after the
// request obey it too (track sids are checked, not copied).
//
// Parlor's addition: a subscriber whose grant is hidden, recorder or roomAdmin is never refused
// (the staff monitor the app mints is hidden + subscribe-only and must see every visit; a
// publisher cannot name a hidden participant it never learns of). See Room::may_receive.
//
// Threading: worker thread only (owned by a Participant). Bounded: update() refuses a request
// with more entries than limit.max_track_permissions or an entry with more sids than
// limit.num_tracks, keeping the previous state.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "livekit_rtc.pb.h"

namespace parlor::signal {

class TrackPermissions {
 public:
  struct Bounds {
    size_t max_entries = 0;         // limit.max_track_permissions
    size_t max_sids_per_entry = 0;  // limit.num_tracks: a publisher has no more tracks
  };

  // A participant's identity from its sid (nullopt: nobody in the room has it).
  using IdentityOf = std::function<std::optional<std::string>(const std::string& sid)>;

  // Replaces the state with the request's. False (nothing changed) when it is over the bounds;
  // throws BadInput (nothing changed) for an entry that names nobody.
  bool update(const livekit::SubscriptionPermission& request, const Bounds& bounds,
              const IdentityOf& identity_of);
  // Whether the subscriber with this identity may receive the track `track_sid`.
  bool allows(std::string_view identity, std::string_view track_sid) const;
  bool allows_everyone() const { return all_; }
  size_t entry_count() const { return entries_.size(); }

 private:
  struct Entry {
    std::string identity;
    bool all_tracks = false;
    std::vector<std::string> track_sids;
  };
  bool all_ = true;
  std::vector<Entry> entries_;
};

}  // namespace parlor::signal
