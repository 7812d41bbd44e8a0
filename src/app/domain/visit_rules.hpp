#pragma once
// Visit scheduling rules and the visit state machine: pure logic, no storage, unit-tested.
#include <cstdint>
#include <optional>
#include <string>

namespace parlor::app {

struct VisitRules {
  int bookable_start_hour = 8;            // local facility hours, [start, end)
  int bookable_end_hour = 20;
  int min_notice_minutes = 0;             // a visitor's request must be this far ahead
  int max_advance_days = 14;
  int max_duration_minutes = 60;
  int max_visits_per_resident_per_week = 7;
  int join_window_minutes = 10;           // how early participants may join
  // Recording policy (docs/recording.md, "In the app"): every non-privileged visit is recorded
  // unless the facility turns it off; files are deleted this many days after their end
  // (0 = kept forever, at most kMaxRetentionDays).
  bool record_visits = true;
  int recording_retention_days = 90;
};

inline constexpr int kMaxRetentionDays = 3650;  // ten years: beyond that, say "forever" (0)

struct BookingRequest {
  int64_t start = 0;                 // Unix seconds
  int duration_minutes = 0;
  int utc_offset_minutes = 0;        // facility time zone offset at `start`
  int visits_that_week = 0;          // existing non-cancelled visits of the resident that week
  bool by_staff = false;             // staff may override notice and opening hours
};

// Empty when allowed; otherwise the reason, in words for the user.
std::optional<std::string> check_booking(const VisitRules& rules, const BookingRequest& request,
                                         int64_t now);
// Throws parlor::BadInput unless the rules are coherent.
void validate_rules(const VisitRules& rules);

enum class VisitStatus { kRequested, kScheduled, kLive, kCompleted, kCancelled, kMissed, kTerminated };

const char* to_string(VisitStatus s);
std::optional<VisitStatus> visit_status_from(const std::string& s);
bool is_final(VisitStatus s);
// The allowed transitions: requested→scheduled|cancelled; scheduled→live|cancelled|missed;
// live→completed|terminated; requested|scheduled→terminated (staff end before anyone joined).
// Completed, cancelled, missed and terminated are final (is_final): nothing leaves them.
bool can_transition(VisitStatus from, VisitStatus to);

// Whether a visit is recorded: the policy is on, the visit is not privileged (attorney, clergy:
// never recorded) and the video provider can record (the legacy Twilio provider cannot).
bool visit_recorded(const VisitRules& rules, bool privileged, bool provider_records);

// Whether retention deletes a recording that ended at `ended_at` (Unix seconds) now: never
// while it has not ended (0) or when the retention is 0 (keep forever).
bool retention_due(int retention_days, int64_t ended_at, int64_t now);

// Whether a participant may join now: from start - join_window to the visit's end.
bool in_join_window(const VisitRules& rules, int64_t start, int duration_minutes, int64_t now);

}  // namespace parlor::app
