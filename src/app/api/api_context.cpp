#include "app/api/api_context.hpp"

#include <set>

#include "app/auth/passwords.hpp"
#include "common/errors.hpp"

namespace parlor::app {

json User::to_json() const {
  json j = {{"id", id}, {"email", email}, {"name", name}, {"role", role}};
  if (resident_id) j["residentId"] = resident_id;
  if (visitor_id) j["visitorId"] = visitor_id;
  return j;
}

void ApiContext::audit(const std::string& actor, const std::string& action,
                       const std::string& target, const json& details) {
  long long now = unix_now();
  std::string d = details.dump();
  db.sql()
      << "INSERT INTO audit_log (actor, action, target, at, details) VALUES (:a, :b, :c, :d, :e)",
      soci::use(actor), soci::use(action), soci::use(target), soci::use(now), soci::use(d);
}

VisitRules ApiContext::load_rules() {
  VisitRules r;
  int record = 1;
  db.sql()
      << "SELECT bookable_start_hour, bookable_end_hour, min_notice_minutes, max_advance_days, "
         "max_duration_minutes, max_visits_per_resident_per_week, join_window_minutes, "
         "record_visits, recording_retention_days FROM visit_rules WHERE id = 1",
      soci::into(r.bookable_start_hour), soci::into(r.bookable_end_hour),
      soci::into(r.min_notice_minutes), soci::into(r.max_advance_days),
      soci::into(r.max_duration_minutes), soci::into(r.max_visits_per_resident_per_week),
      soci::into(r.join_window_minutes), soci::into(record),
      soci::into(r.recording_retention_days);
  r.record_visits = record != 0;
  return r;
}

json ApiContext::rules_json(const VisitRules& r) {
  return json{{"bookableStartHour", r.bookable_start_hour},
              {"bookableEndHour", r.bookable_end_hour},
              {"minNoticeMinutes", r.min_notice_minutes},
              {"maxAdvanceDays", r.max_advance_days},
              {"maxDurationMinutes", r.max_duration_minutes},
              {"maxVisitsPerResidentPerWeek", r.max_visits_per_resident_per_week},
              {"joinWindowMinutes", r.join_window_minutes},
              {"recordVisits", r.record_visits},
              {"recordingRetentionDays", r.recording_retention_days}};
}

std::string ApiContext::approval_status(long long visitor_id, long long resident_id) {
  std::string s;
  db.sql() << "SELECT status FROM approvals WHERE visitor_id = :v AND resident_id = :r",
      soci::use(visitor_id), soci::use(resident_id), soci::into(s);
  return db.sql().got_data() ? s : std::string();
}

VisitRow ApiContext::load_visit(long long id) {
  VisitRow v;
  soci::indicator created_ind = soci::i_ok;
  db.sql() << "SELECT v.id, v.resident_id, v.start_at, v.duration_minutes, v.privileged, v.status, "
              "v.room, "
              "v.ended_reason, r.name, v.created_by FROM visits v JOIN residents r ON r.id = "
              "v.resident_id "
              "WHERE v.id = :id",
      soci::use(id), soci::into(v.id), soci::into(v.resident_id), soci::into(v.start),
      soci::into(v.duration), soci::into(v.privileged), soci::into(v.status), soci::into(v.room),
      soci::into(v.ended_reason), soci::into(v.resident_name),
      soci::into(v.created_by, created_ind);
  if (!db.sql().got_data()) throw not_found("visit");
  if (created_ind != soci::i_ok) v.created_by = 0;
  v.recorded = visit_recorded(load_rules(), v.privileged != 0, video.supports_recording());
  soci::rowset<soci::row> rs =
      (db.sql().prepare << "SELECT vv.visitor_id, vi.name FROM visit_visitors vv JOIN visitors vi "
                           "ON vi.id = vv.visitor_id "
                           "WHERE vv.visit_id = :id ORDER BY vv.visitor_id",
       soci::use(id));
  for (const auto& row : rs) {
    v.visitors.emplace_back(as_int(row, 0), row.get<std::string>(1));
  }
  return v;
}

VisitRow ApiContext::load_visit_for(const User& viewer, long long id) {
  VisitRow v = load_visit(id);
  if (!may_know_resident(viewer, v.resident_id)) v.resident_name.clear();
  return v;
}

bool ApiContext::may_know_resident(const User& u, long long resident_id) {
  if (is_staff(u.role)) return true;
  if (u.role == "resident") return u.resident_id == resident_id;
  return u.role == "visitor" && approval_status(u.visitor_id, resident_id) == "approved";
}

json ApiContext::visit_json(const VisitRow& v) {
  json vis = json::array();
  for (auto& [id, name] : v.visitors) vis.push_back({{"id", id}, {"name", name}});
  json j = {{"id", v.id},
            {"residentId", v.resident_id},
            {"visitors", vis},
            {"start", iso_time(v.start)},
            {"end", iso_time(v.start + v.duration * 60)},
            {"durationMinutes", v.duration},
            {"privileged", v.privileged != 0},
            {"status", v.status},
            {"room", v.room},
            {"recorded", v.recorded}};
  if (!v.resident_name.empty()) j["residentName"] = v.resident_name;  // hidden from some viewers
  if (!v.ended_reason.empty()) j["endedReason"] = v.ended_reason;
  return j;
}

bool ApiContext::may_see_visit(const User& u, const VisitRow& v) {
  if (is_staff(u.role)) return true;
  if (u.role == "resident") return u.resident_id == v.resident_id;
  for (auto& [id, _] : v.visitors) {
    if (id == u.visitor_id) return true;
  }
  return false;
}

void ApiContext::set_status(VisitRow& v, VisitStatus to, const std::string& reason) {
  auto from = visit_status_from(v.status).value_or(VisitStatus::kRequested);
  if (!can_transition(from, to)) {
    throw conflict(std::string("a ") + v.status + " visit cannot become " + to_string(to));
  }
  std::string s = to_string(to);
  db.sql() << "UPDATE visits SET status = :s, ended_reason = :r WHERE id = :id", soci::use(s),
      soci::use(reason), soci::use(v.id);
  v.status = s;
  v.ended_reason = reason;
}

int ApiContext::visits_that_week(long long resident_id, int64_t start, long long except) {
  int count = 0;
  long long week_start = start - 7 * 86400, week_end = start + 7 * 86400;
  db.sql()
      << "SELECT COUNT(*) FROM visits WHERE resident_id = :r AND start_at > :a AND start_at < :b "
         "AND status NOT IN ('cancelled', 'missed') AND id <> :x",
      soci::use(resident_id), soci::use(week_start), soci::use(week_end), soci::use(except),
      soci::into(count);
  return count / 2;  // a rolling two-week window around the start, halved
}

long long ApiContext::create_resident(const std::string& name, const std::string& unit) {
  long long id = 0;
  long long now = unix_now();
  db.sql() << "INSERT INTO residents (name, unit, created_at) VALUES (:n, :u, :t) RETURNING id",
      soci::use(name), soci::use(unit), soci::use(now), soci::into(id);
  return id;
}

long long ApiContext::create_visitor(const std::string& name, const std::string& email) {
  long long id = 0;
  long long now = unix_now();
  db.sql() << "INSERT INTO visitors (name, email, created_at) VALUES (:n, :e, :t) RETURNING id",
      soci::use(name), soci::use(email), soci::use(now), soci::into(id);
  return id;
}

long long ApiContext::create_user(const std::string& email, const std::string& name,
                                  const std::string& role, const std::string& password,
                                  long long resident_id, long long visitor_id) {
  static const std::set<std::string> kRoles{"admin", "staff", "resident", "visitor"};
  if (!kRoles.count(role)) throw BadInput("role must be admin, staff, resident or visitor");
  if (password.size() < 8) throw BadInput("passwords need at least 8 characters");
  int exists = 0;
  db.sql() << "SELECT COUNT(*) FROM users WHERE email = :e", soci::use(email), soci::into(exists);
  if (exists) throw BadInput("a user with email " + email + " already exists");
  std::string hash = hash_password(password);
  long long id = 0, now = unix_now();
  soci::indicator ri = resident_id ? soci::i_ok : soci::i_null;
  soci::indicator vi = visitor_id ? soci::i_ok : soci::i_null;
  db.sql() << "INSERT INTO users (email, name, role, password_hash, resident_id, visitor_id, "
              "created_at) "
              "VALUES (:e, :n, :r, :h, :ri, :vi, :t) RETURNING id",
      soci::use(email), soci::use(name), soci::use(role), soci::use(hash),
      soci::use(resident_id, ri), soci::use(visitor_id, vi), soci::use(now), soci::into(id);
  return id;
}

void ApiContext::set_approval(long long visitor_id, long long resident_id,
                              const std::string& status, const std::string& actor) {
  long long now = unix_now();
  int exists = 0;
  db.sql() << "SELECT COUNT(*) FROM approvals WHERE visitor_id = :v AND resident_id = :r",
      soci::use(visitor_id), soci::use(resident_id), soci::into(exists);
  if (exists) {
    db.sql() << "UPDATE approvals SET status = :s, decided_by = :a, decided_at = :t "
                "WHERE visitor_id = :v AND resident_id = :r",
        soci::use(status), soci::use(actor), soci::use(now), soci::use(visitor_id),
        soci::use(resident_id);
  } else {
    db.sql() << "INSERT INTO approvals (visitor_id, resident_id, status, decided_by, decided_at, "
                "created_at) "
                "VALUES (:v, :r, :s, :a, :t, :t2)",
        soci::use(visitor_id), soci::use(resident_id), soci::use(status), soci::use(actor),
        soci::use(now), soci::use(now);
  }
}

long long ApiContext::create_visit(long long resident_id, const std::vector<long long>& visitor_ids,
                                   int64_t start, int duration_minutes, bool privileged,
                                   const std::string& status, long long created_by) {
  long long id = 0;
  long long now = unix_now(), start_ll = start;
  int priv = privileged ? 1 : 0;
  std::string pending_room = "pending";
  db.transaction([&] {
    db.sql() << "INSERT INTO visits (resident_id, start_at, duration_minutes, privileged, status, "
                "room, created_by, created_at) "
                "VALUES (:r, :s, :d, :p, :st, :room, :c, :t) RETURNING id",
        soci::use(resident_id), soci::use(start_ll), soci::use(duration_minutes), soci::use(priv),
        soci::use(status), soci::use(pending_room), soci::use(created_by), soci::use(now),
        soci::into(id);
    std::string room = "visit-" + std::to_string(id);
    db.sql() << "UPDATE visits SET room = :room WHERE id = :id", soci::use(room), soci::use(id);
    for (auto v : visitor_ids) {
      db.sql() << "INSERT INTO visit_visitors (visit_id, visitor_id) VALUES (:a, :b)",
          soci::use(id), soci::use(v);
    }
  });
  return id;
}

}  // namespace parlor::app
