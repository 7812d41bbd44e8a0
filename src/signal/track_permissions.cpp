#include "signal/track_permissions.hpp"

#include <algorithm>

#include "common/errors.hpp"

namespace parlor::signal {

bool TrackPermissions::update(const livekit::SubscriptionPermission& request, const Bounds& bounds,
                              const IdentityOf& identity_of) {
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
    Entry e;
    e.identity = p.participant_identity();  // LiveKit: the identity wins over the sid
    if (e.identity.empty()) {
      if (p.participant_sid().empty()) throw BadInput("a track permission names no participant");
      auto identity = identity_of(p.participant_sid());
      if (!identity) continue;  // nobody has that sid (any more)
      e.identity = std::move(*identity);
    }
    e.all_tracks = p.all_tracks();
    e.track_sids.assign(p.track_sids().begin(), p.track_sids().end());
    entries.push_back(std::move(e));
  }
  all_ = false;
  entries_ = std::move(entries);
  return true;
}

bool TrackPermissions::allows(std::string_view identity, std::string_view track_sid) const {
  if (all_) return true;
  for (const auto& e : entries_) {
    if (e.identity != identity) continue;
    if (e.all_tracks) return true;
    if (std::find(e.track_sids.begin(), e.track_sids.end(), track_sid) != e.track_sids.end())
      return true;
  }
  return false;
}

}  // namespace parlor::signal
