#include "app/domain/visit_rules.hpp"

#include "common/errors.hpp"

namespace parlor::app {

std::optional<std::string> check_booking(const VisitRules& r, const BookingRequest& q, int64_t now) {
  if (q.duration_minutes <= 0) return "the visit needs a duration";
  if (q.duration_minutes > r.max_duration_minutes) {
    return "visits may last at most " + std::to_string(r.max_duration_minutes) + " minutes";
  }
  if (q.start + q.duration_minutes * 60 <= now) return "the visit would already be over";
  if (q.start > now + static_cast<int64_t>(r.max_advance_days) * 86400) {
    return "visits can be booked at most " + std::to_string(r.max_advance_days) + " days ahead";
  }
  if (q.visits_that_week >= r.max_visits_per_resident_per_week) {
    return "the resident already has the most visits allowed this week";
  }
  if (!q.by_staff) {
    if (q.start < now + static_cast<int64_t>(r.min_notice_minutes) * 60) {
      return "visits must be requested at least " + std::to_string(r.min_notice_minutes) +
             " minutes ahead";
    }
    int64_t local = q.start + q.utc_offset_minutes * 60;
    int minute_of_day = static_cast<int>(((local % 86400) + 86400) % 86400 / 60);
    int end_minute = minute_of_day + q.duration_minutes;
    if (minute_of_day < r.bookable_start_hour * 60 || end_minute > r.bookable_end_hour * 60) {
      return "visits take place between " + std::to_string(r.bookable_start_hour) + ":00 and " +
             std::to_string(r.bookable_end_hour) + ":00";
    }
  }
  return std::nullopt;
}

void validate_rules(const VisitRules& r) {
  if (r.bookable_start_hour < 0 || r.bookable_end_hour > 24 ||
      r.bookable_start_hour >= r.bookable_end_hour) {
    throw BadInput("bookable hours must satisfy 0 <= start < end <= 24");
  }
  if (r.min_notice_minutes < 0 || r.max_advance_days < 1 || r.max_duration_minutes < 1 ||
      r.max_duration_minutes > 24 * 60 || r.max_visits_per_resident_per_week < 1 ||
      r.join_window_minutes < 0 || r.join_window_minutes > 120) {
    throw BadInput("visit rules out of range");
  }
  if (r.recording_retention_days < 0 || r.recording_retention_days > kMaxRetentionDays) {
    throw BadInput("recordingRetentionDays must be from 0 (keep forever) to " +
                   std::to_string(kMaxRetentionDays));
  }
}

bool visit_recorded(const VisitRules& r, bool privileged, bool provider_records) {
  return r.record_visits && !privileged && provider_records;
}

bool retention_due(int retention_days, int64_t ended_at, int64_t now) {
  if (retention_days <= 0 || ended_at <= 0) return false;
  return now >= ended_at + static_cast<int64_t>(retention_days) * 86400;
}

const char* to_string(VisitStatus s) {
  switch (s) {
    case VisitStatus::kRequested: return "requested";
    case VisitStatus::kScheduled: return "scheduled";
    case VisitStatus::kLive: return "live";
    case VisitStatus::kCompleted: return "completed";
    case VisitStatus::kCancelled: return "cancelled";
    case VisitStatus::kMissed: return "missed";
    case VisitStatus::kTerminated: return "terminated";
  }
  return "unknown";
}

std::optional<VisitStatus> visit_status_from(const std::string& s) {
  for (auto v : {VisitStatus::kRequested, VisitStatus::kScheduled, VisitStatus::kLive,
                 VisitStatus::kCompleted, VisitStatus::kCancelled, VisitStatus::kMissed,
                 VisitStatus::kTerminated}) {
    if (s == to_string(v)) return v;
  }
  return std::nullopt;
}

bool is_final(VisitStatus s) {
  return s == VisitStatus::kCompleted || s == VisitStatus::kCancelled ||
         s == VisitStatus::kMissed || s == VisitStatus::kTerminated;
}

bool can_transition(VisitStatus from, VisitStatus to) {
  using S = VisitStatus;
  switch (from) {
    case S::kRequested:
      return to == S::kScheduled || to == S::kCancelled || to == S::kTerminated;
    case S::kScheduled:
      return to == S::kLive || to == S::kCancelled || to == S::kMissed || to == S::kTerminated;
    case S::kLive: return to == S::kCompleted || to == S::kTerminated;
    default: return false;
  }
}

bool in_join_window(const VisitRules& r, int64_t start, int duration_minutes, int64_t now) {
  return now >= start - static_cast<int64_t>(r.join_window_minutes) * 60 &&
         now < start + static_cast<int64_t>(duration_minutes) * 60;
}

}  // namespace parlor::app
