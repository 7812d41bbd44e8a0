#include "signal/track_permissions.hpp"

#include <algorithm>

namespace parlor::signal {

bool TrackPermissions::update(const livekit::SubscriptionPermission& request, const Bounds& bounds) {
  if (request.all_participants()) {  // LiveKit drops the list: everyone may subscribe
    all_ = true;
    entries_.clear();
    return true;
  }
  if (static_cast<size_t>(request.track_permissions_size()) > bounds.max_entries) return false;
  for (const auto& p : request.track_permissions()) {
    if (static_cast<size_t>(p.track_sids_size()) > bounds.max_sids_per_entry) return false;
  }
  std::vector<Entry> entries;
  entries.reserve(request.track_permissions_size());
  for (const auto& p : request.track_permissions()) {
    if (p.participant_identity().empty() && p.participant_sid().empty()) continue;  // names nobody
    Entry e;
    e.identity = p.participant_identity();
    e.sid = p.participant_sid();
    e.all_tracks = p.all_tracks();
    e.track_sids.assign(p.track_sids().begin(), p.track_sids().end());
    entries.push_back(std::move(e));
  }
  all_ = false;
  entries_ = std::move(entries);
  return true;
}

bool TrackPermissions::allows(std::string_view identity, std::string_view sid, std::string_view track_sid) const {
  if (all_) return true;
  for (const auto& e : entries_) {
    bool named = (!e.identity.empty() && e.identity == identity) || (!e.sid.empty() && e.sid == sid);
    if (!named) continue;
    if (e.all_tracks) return true;
    if (std::find(e.track_sids.begin(), e.track_sids.end(), track_sid) != e.track_sids.end()) return true;
  }
  return false;
}

}  // namespace parlor::signal
