// The facility's visit rules (GET/PUT /rules) and the audit log (GET /audit).
#include "app/api/handlers.hpp"
#include "common/errors.hpp"

namespace parlor::app {

namespace {
constexpr int kDefaultAuditEntries = 100;
constexpr long long kMaxAuditEntries = 1000;
}  // namespace

MaybeResponse handle_rules(ApiContext& ctx, const Call& call) {
  if (!(call.parts.size() == 1 && call.parts[0] == "rules")) return std::nullopt;
  if (call.method() == "GET")
    return json_reply(200, {{"rules", ApiContext::rules_json(ctx.load_rules())}});
  if (call.method() != "PUT") return std::nullopt;
  call.require_staff();
  auto b = parse_body(call.req);
  // The recording policy is optional in a PUT (older clients send only the booking rules):
  // absent fields keep their current value.
  VisitRules r = ctx.load_rules();
  r.bookable_start_hour = need_int(b, "bookableStartHour", 0, 24);
  r.bookable_end_hour = need_int(b, "bookableEndHour", 0, 24);
  r.min_notice_minutes = need_int(b, "minNoticeMinutes", 0, 60 * 24 * 30);
  r.max_advance_days = need_int(b, "maxAdvanceDays", 1, 365);
  r.max_duration_minutes = need_int(b, "maxDurationMinutes", 1, 24 * 60);
  r.max_visits_per_resident_per_week = need_int(b, "maxVisitsPerResidentPerWeek", 1, 1000);
  r.join_window_minutes = need_int(b, "joinWindowMinutes", 0, 120);
  if (b.contains("recordVisits")) {
    if (!b["recordVisits"].is_boolean()) throw bad_request("recordVisits must be true or false");
    r.record_visits = b["recordVisits"].get<bool>();
  }
  if (b.contains("recordingRetentionDays")) {
    r.recording_retention_days = need_int(b, "recordingRetentionDays", 0, kMaxRetentionDays);
  }
  try {
    validate_rules(r);
  } catch (const BadInput& e) {
    throw bad_request(e.what());
  }
  int record = r.record_visits ? 1 : 0;
  ctx.db.sql()
      << "UPDATE visit_rules SET bookable_start_hour=:a, bookable_end_hour=:b, "
         "min_notice_minutes=:c, "
         "max_advance_days=:d, max_duration_minutes=:e, max_visits_per_resident_per_week=:f, "
         "join_window_minutes=:g, record_visits=:h, recording_retention_days=:i WHERE id = 1",
      soci::use(r.bookable_start_hour), soci::use(r.bookable_end_hour),
      soci::use(r.min_notice_minutes), soci::use(r.max_advance_days),
      soci::use(r.max_duration_minutes), soci::use(r.max_visits_per_resident_per_week),
      soci::use(r.join_window_minutes), soci::use(record), soci::use(r.recording_retention_days);
  ctx.audit(call.actor(), "rules.update", "rules", ApiContext::rules_json(r));
  return json_reply(200, {{"rules", ApiContext::rules_json(r)}});
}

MaybeResponse handle_audit(ApiContext& ctx, const Call& call) {
  if (!(call.parts.size() == 1 && call.parts[0] == "audit" && call.method() == "GET"))
    return std::nullopt;
  call.require_staff();
  int limit = kDefaultAuditEntries;
  if (auto l = call.req.query_param("limit"); !l.empty()) {
    limit = static_cast<int>(std::min(path_id(l), kMaxAuditEntries));
  }
  json list = json::array();
  soci::rowset<soci::row> rs =
      (ctx.db.sql().prepare << "SELECT id, actor, action, target, at, details FROM audit_log ORDER "
                               "BY id DESC LIMIT :l",
       soci::use(limit));
  for (const auto& row : rs) {
    list.push_back({{"id", as_int(row, 0)},
                    {"actor", row.get<std::string>(1)},
                    {"action", row.get<std::string>(2)},
                    {"target", row.get<std::string>(3)},
                    {"at", iso_time(as_int(row, 4))},
                    {"details", json::parse(row.get<std::string>(5), nullptr, false)}});
  }
  return json_reply(200, {{"entries", list}});
}

}  // namespace parlor::app
