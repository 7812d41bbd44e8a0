#pragma once
// The node's egresses (issue 12): one table of EgressInfo, their status machine and their bounds.
//
//   STARTING ──first frame written──► ACTIVE ──stop / room end / track end──► ENDING ──► COMPLETE
//       │                               │                                       │
//       └──────── any failure ──────────┴──────────────► FAILED (with `error`) ◄┘
//   STARTING/ENDING that never saw media ──room ended / nothing recorded──► ABORTED
//
// Every change is reported to the listener while the table's lock is held, so the webhooks it
// queues (egress_started, egress_updated, egress_ended) leave in the order the changes happened,
// whichever thread made them. The listener must be quick and must not call back in here.
//
// Bounds: at most `max_active` egresses not yet ended (more are refused with Twirp
// resource_exhausted); ended ones are kept for ListEgress up to `max_finished`, oldest forgotten
// first.
//
// Threading: every method from any thread (one mutex).
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "livekit_egress.pb.h"

namespace parlor::service {

class EgressRegistry {
 public:
  // `event` is egress_started, egress_updated or egress_ended.
  using Listener = std::function<void(const char* event, const livekit::EgressInfo& info)>;
  using NowNs = std::function<int64_t()>;

  EgressRegistry(uint32_t max_active, uint32_t max_finished, Listener listener,
                 NowNs now_ns = nullptr);

  // Registers a new egress from `info` (request, room): a fresh `EG_` id, STARTING, updated_at.
  // Throws TwirpError(resource_exhausted) at max_active.
  livekit::EgressInfo create(livekit::EgressInfo info);
  std::optional<livekit::EgressInfo> get(const std::string& egress_id) const;
  // Filters: an empty room or id matches all; `active` keeps those not yet ended.
  std::vector<livekit::EgressInfo> list(const std::string& room_name, const std::string& egress_id,
                                        bool active) const;
  size_t active_count() const;

  // Transitions. Each returns the new state when it applied, nullopt when the egress is unknown or
  // the transition does not apply from its status (e.g. a second stop, or ACTIVE after ENDING).
  std::optional<livekit::EgressInfo> activate(const std::string& egress_id);
  std::optional<livekit::EgressInfo> ending(const std::string& egress_id);
  // `details` says what else happened (an upload that failed and left the file local, with
  // `backup_storage_used`).
  std::optional<livekit::EgressInfo> complete(const std::string& egress_id,
                                              const std::vector<livekit::FileInfo>& files,
                                              const std::string& details = "",
                                              bool backup_storage_used = false);
  std::optional<livekit::EgressInfo> fail(const std::string& egress_id, const std::string& error);
  // ENDED without media: ABORTED with `error` saying why.
  std::optional<livekit::EgressInfo> abort(const std::string& egress_id, const std::string& error);
  // Stores a room composite's layout (UpdateLayout); throws TwirpError not_found /
  // failed_precondition (ended, or not a room composite).
  livekit::EgressInfo update_layout(const std::string& egress_id, const std::string& layout);

  static bool ended(livekit::EgressStatus status);

 private:
  std::optional<livekit::EgressInfo> end(const std::string& egress_id, livekit::EgressStatus status,
                                         const std::string& error,
                                         const std::vector<livekit::FileInfo>* files,
                                         const std::string& details = "",
                                         bool backup_storage_used = false);
  void forget_old_finished();  // under mutex_

  const uint32_t max_active_, max_finished_;
  Listener listener_;
  NowNs now_ns_;
  mutable std::mutex mutex_;
  std::map<std::string, livekit::EgressInfo> egresses_;
  std::deque<std::string> finished_;  // ended egress ids, oldest first
  size_t active_ = 0;
};

// Unix time in nanoseconds (EgressInfo's timestamps).
int64_t unix_nanos();

}  // namespace parlor::service
