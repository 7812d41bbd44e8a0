#include "app/api/app_api.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "app/auth/passwords.hpp"
#include "common/errors.hpp"

namespace parlor::app {

using json = nlohmann::json;

namespace {

// An API error with its HTTP status and stable code (docs/api.md).
struct ApiError : std::runtime_error {
  int status;
  std::string code;
  ApiError(int s, std::string c, const std::string& m)
      : std::runtime_error(m), status(s), code(std::move(c)) {}
};

ApiError bad_request(const std::string& m) { return {400, "bad_request", m}; }
ApiError forbidden(const std::string& m = "you are not allowed to do that") {
  return {403, "forbidden", m};
}
ApiError not_found(const std::string& what) { return {404, "not_found", what + " not found"}; }
ApiError conflict(const std::string& m) { return {409, "conflict", m}; }

http::Response json_reply(int status, const json& body) {
  return http::Response::json(status, body.dump());
}

http::Response error_reply(int status, const std::string& code, const std::string& message) {
  return json_reply(status, {{"error", {{"code", code}, {"message", message}}}});
}

int64_t unix_now() { return time(nullptr); }

std::string iso_time(int64_t t) {
  if (t == 0) return "";
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t parse_time(const json& v, const char* field) {
  if (!v.is_string()) throw bad_request(std::string(field) + " must be an RFC 3339 time string");
  std::string s = v.get<std::string>();
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) throw bad_request(std::string(field) + " must look like 2026-01-31T14:00:00Z");
  int64_t t = timegm(&tm);
  std::string rest(end);
  if (!rest.empty() && rest[0] == '.') {  // fractional seconds
    size_t i = 1;
    while (i < rest.size() && isdigit(static_cast<unsigned char>(rest[i]))) ++i;
    rest = rest.substr(i);
  }
  if (rest == "Z" || rest.empty()) return t;
  int hh = 0, mm = 0;
  if ((rest[0] == '+' || rest[0] == '-') && sscanf(rest.c_str() + 1, "%d:%d", &hh, &mm) == 2) {
    int sign = rest[0] == '+' ? 1 : -1;
    return t - sign * (hh * 3600 + mm * 60);
  }
  throw bad_request(std::string(field) + " has an unreadable time zone");
}

json parse_body(const http::Request& req) {
  if (req.body.empty()) return json::object();
  auto ct = req.header("content-type");
  if (ct.find("application/json") == std::string::npos) {
    throw ApiError(415, "bad_request", "send the body as application/json");
  }
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) throw bad_request("the request body is not valid JSON");
  if (!j.is_object()) throw bad_request("the request body must be a JSON object");
  return j;
}

std::string need_string(const json& j, const char* field, size_t max = 200, bool required = true) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (required) throw bad_request(std::string(field) + " is required");
    return "";
  }
  if (!it->is_string()) throw bad_request(std::string(field) + " must be a string");
  auto s = it->get<std::string>();
  if (required && s.empty()) throw bad_request(std::string(field) + " must not be empty");
  if (s.size() > max) throw bad_request(std::string(field) + " is too long");
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\n' && c != '\t') throw bad_request(std::string(field) + " has control characters");
  }
  return s;
}

long long need_id(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_number_integer() || it->get<long long>() <= 0) {
    throw bad_request(std::string(field) + " must be a positive integer id");
  }
  return it->get<long long>();
}

int need_int(const json& j, const char* field, int lo, int hi) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_number_integer()) throw bad_request(std::string(field) + " must be an integer");
  auto v = it->get<long long>();
  if (v < lo || v > hi) {
    throw bad_request(std::string(field) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return static_cast<int>(v);
}

long long path_id(const std::string& s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    throw not_found("resource");
  }
  return std::stoll(s);
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    auto j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

std::string cookie_value(const http::Request& req, const std::string& name) {
  std::string cookies = req.header("cookie");
  size_t pos = 0;
  while (pos < cookies.size()) {
    auto end = cookies.find(';', pos);
    std::string part = cookies.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    auto b = part.find_first_not_of(' ');
    if (b != std::string::npos) part = part.substr(b);
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return "";
}

bool is_staff(const std::string& role) { return role == "staff" || role == "admin"; }

// Integer column of a dynamic row, whatever width the backend reports it with (SQLite says
// "integer" for INTEGER PRIMARY KEY and "long long" for BIGINT; PostgreSQL varies likewise).
long long as_int(const soci::row& row, std::size_t i) {
  if (row.get_indicator(i) == soci::i_null) return 0;
  switch (row.get_properties(i).get_data_type()) {
    case soci::dt_integer: return row.get<int>(i);
    case soci::dt_long_long: return row.get<long long>(i);
    case soci::dt_unsigned_long_long: return static_cast<long long>(row.get<unsigned long long>(i));
    case soci::dt_double: return static_cast<long long>(row.get<double>(i));
    case soci::dt_string: return std::stoll(row.get<std::string>(i));
    default: throw InternalError("unexpected column type");
  }
}

}  // namespace

struct AppApi::User {
  long long id = 0;
  std::string email, name, role, csrf;
  long long resident_id = 0, visitor_id = 0;
  json to_json() const {
    json j = {{"id", id}, {"email", email}, {"name", name}, {"role", role}};
    if (resident_id) j["residentId"] = resident_id;
    if (visitor_id) j["visitorId"] = visitor_id;
    return j;
  }
};

AppApi::AppApi(AppSettings settings, Database& db, VideoProvider& video)
    : settings_(std::move(settings)), db_(db), video_(video) {}

void AppApi::register_routes(http::Router& router) {
  auto handler = [this](const http::Request& req) {
    std::lock_guard lock(mutex_);
    return dispatch(req);
  };
  router.add_prefix("*", "/api/", handler);
  router.add("*", "/calls/join", handler);
  router.add("*", "/webhooks/livekit", handler);
  router.add("GET", "/healthz", [](const http::Request&) {
    return http::Response::json(200, R"({"ok":true})");
  });
}

// ---- data helpers ----

long long AppApi::create_resident(const std::string& name, const std::string& unit) {
  long long id = 0;
  long long now = unix_now();
  db_.sql() << "INSERT INTO residents (name, unit, created_at) VALUES (:n, :u, :t) RETURNING id",
      soci::use(name), soci::use(unit), soci::use(now), soci::into(id);
  return id;
}

long long AppApi::create_visitor(const std::string& name, const std::string& email) {
  long long id = 0;
  long long now = unix_now();
  db_.sql() << "INSERT INTO visitors (name, email, created_at) VALUES (:n, :e, :t) RETURNING id",
      soci::use(name), soci::use(email), soci::use(now), soci::into(id);
  return id;
}

long long AppApi::create_user(const std::string& email, const std::string& name,
                              const std::string& role, const std::string& password,
                              long long resident_id, long long visitor_id) {
  static const std::set<std::string> kRoles{"admin", "staff", "resident", "visitor"};
  if (!kRoles.count(role)) throw BadInput("role must be admin, staff, resident or visitor");
  if (password.size() < 8) throw BadInput("passwords need at least 8 characters");
  int exists = 0;
  db_.sql() << "SELECT COUNT(*) FROM users WHERE email = :e", soci::use(email), soci::into(exists);
  if (exists) throw BadInput("a user with email " + email + " already exists");
  std::string hash = hash_password(password);
  long long id = 0, now = unix_now();
  soci::indicator ri = resident_id ? soci::i_ok : soci::i_null;
  soci::indicator vi = visitor_id ? soci::i_ok : soci::i_null;
  db_.sql() << "INSERT INTO users (email, name, role, password_hash, resident_id, visitor_id, created_at) "
               "VALUES (:e, :n, :r, :h, :ri, :vi, :t) RETURNING id",
      soci::use(email), soci::use(name), soci::use(role), soci::use(hash),
      soci::use(resident_id, ri), soci::use(visitor_id, vi), soci::use(now), soci::into(id);
  return id;
}

void AppApi::set_approval(long long visitor_id, long long resident_id, const std::string& status,
                          const std::string& actor) {
  long long now = unix_now();
  int exists = 0;
  db_.sql() << "SELECT COUNT(*) FROM approvals WHERE visitor_id = :v AND resident_id = :r",
      soci::use(visitor_id), soci::use(resident_id), soci::into(exists);
  if (exists) {
    db_.sql() << "UPDATE approvals SET status = :s, decided_by = :a, decided_at = :t "
                 "WHERE visitor_id = :v AND resident_id = :r",
        soci::use(status), soci::use(actor), soci::use(now), soci::use(visitor_id),
        soci::use(resident_id);
  } else {
    db_.sql() << "INSERT INTO approvals (visitor_id, resident_id, status, decided_by, decided_at, created_at) "
                 "VALUES (:v, :r, :s, :a, :t, :t2)",
        soci::use(visitor_id), soci::use(resident_id), soci::use(status), soci::use(actor),
        soci::use(now), soci::use(now);
  }
}

long long AppApi::create_visit(long long resident_id, const std::vector<long long>& visitor_ids,
                               int64_t start, int duration_minutes, bool privileged,
                               const std::string& status, long long created_by) {
  long long id = 0;
  long long now = unix_now(), start_ll = start;
  int priv = privileged ? 1 : 0;
  std::string pending_room = "pending";
  db_.transaction([&] {
    db_.sql() << "INSERT INTO visits (resident_id, start_at, duration_minutes, privileged, status, room, created_by, created_at) "
                 "VALUES (:r, :s, :d, :p, :st, :room, :c, :t) RETURNING id",
        soci::use(resident_id), soci::use(start_ll), soci::use(duration_minutes), soci::use(priv),
        soci::use(status), soci::use(pending_room), soci::use(created_by), soci::use(now),
        soci::into(id);
    std::string room = "visit-" + std::to_string(id);
    db_.sql() << "UPDATE visits SET room = :room WHERE id = :id", soci::use(room), soci::use(id);
    for (auto v : visitor_ids) {
      db_.sql() << "INSERT INTO visit_visitors (visit_id, visitor_id) VALUES (:a, :b)",
          soci::use(id), soci::use(v);
    }
  });
  return id;
}

// ---- dispatch ----

http::Response AppApi::dispatch(const http::Request& req) {
  try {
    auto parts = split_path(req.path);
    if (parts.size() >= 1 && parts[0] == "api") parts.erase(parts.begin());
    const std::string& m = req.method;
    auto audit = [&](const std::string& actor, const std::string& action,
                     const std::string& target, const json& details = json::object()) {
      long long now = unix_now();
      std::string d = details.dump();
      db_.sql() << "INSERT INTO audit_log (actor, action, target, at, details) VALUES (:a, :b, :c, :d, :e)",
          soci::use(actor), soci::use(action), soci::use(target), soci::use(now), soci::use(d);
    };

    // -- webhooks (signed, no session) --
    if (parts.size() == 2 && parts[0] == "webhooks" && parts[1] == "livekit") {
      if (m != "POST") throw ApiError(405, "bad_request", "use POST");
      json event;
      try {
        event = video_.verify_webhook(req.body, req.header("authorization"));
      } catch (const Unauthenticated& e) {
        return error_reply(401, "unauthenticated", std::string("webhook rejected: ") + e.what());
      }
      std::string id = event.value("id", "");
      if (id.empty()) throw bad_request("webhook event has no id");
      int seen = 0;
      db_.sql() << "SELECT COUNT(*) FROM webhook_events WHERE event_id = :i", soci::use(id), soci::into(seen);
      if (seen) return json_reply(200, json::object());  // idempotent by event id
      std::string type = event.value("event", "");
      std::string room = event.contains("room") ? event["room"].value("name", "") : "";
      std::string identity = event.contains("participant") ? event["participant"].value("identity", "") : "";
      db_.transaction([&] {
        long long now = unix_now();
        db_.sql() << "INSERT INTO webhook_events (event_id, received_at) VALUES (:i, :t)",
            soci::use(id), soci::use(now);
        long long visit_id = 0;
        std::string status;
        soci::indicator ind;
        db_.sql() << "SELECT id, status FROM visits WHERE room = :r", soci::use(room),
            soci::into(visit_id, ind), soci::into(status);
        if (ind != soci::i_ok || visit_id == 0) return;
        db_.sql() << "INSERT INTO call_events (visit_id, type, identity, at) VALUES (:v, :t, :i, :a)",
            soci::use(visit_id), soci::use(type), soci::use(identity), soci::use(now);
        auto st = visit_status_from(status).value_or(VisitStatus::kScheduled);
        if (type == "participant_joined" && can_transition(st, VisitStatus::kLive)) {
          std::string live = "live";
          db_.sql() << "UPDATE visits SET status = :s WHERE id = :v", soci::use(live), soci::use(visit_id);
          audit("livekit", "visit.live", "visit:" + std::to_string(visit_id));
        } else if (type == "room_finished" && st == VisitStatus::kLive) {
          std::string done = "completed", why = "room closed";
          db_.sql() << "UPDATE visits SET status = :s, ended_reason = :r WHERE id = :v",
              soci::use(done), soci::use(why), soci::use(visit_id);
          audit("livekit", "visit.completed", "visit:" + std::to_string(visit_id));
        } else if (type.rfind("egress_", 0) == 0 && event.contains("egressInfo")) {
          const auto& eg = event["egressInfo"];
          std::string egress_id = eg.value("egressId", ""), est = eg.value("status", "EGRESS_STARTING");
          int known = 0;
          db_.sql() << "SELECT COUNT(*) FROM recordings WHERE egress_id = :e", soci::use(egress_id), soci::into(known);
          if (known) {
            db_.sql() << "UPDATE recordings SET status = :s WHERE egress_id = :e", soci::use(est), soci::use(egress_id);
          } else {
            db_.sql() << "INSERT INTO recordings (visit_id, egress_id, status, started_at) VALUES (:v, :e, :s, :t)",
                soci::use(visit_id), soci::use(egress_id), soci::use(est), soci::use(now);
          }
        }
      });
      return json_reply(200, json::object());
    }

    if (parts.size() == 1 && parts[0] == "config" && m == "GET") {
      return json_reply(200, {{"facility", {{"name", settings_.facility_name}, {"timeZone", settings_.time_zone}}},
                              {"videoProvider", video_.name()}, {"livekitUrl", settings_.livekit_url}});
    }

    // -- login (no session, no CSRF) --
    if (parts.size() == 2 && parts[0] == "auth" && parts[1] == "login") {
      if (m != "POST") throw ApiError(405, "bad_request", "use POST");
      auto body = parse_body(req);
      auto email = need_string(body, "email", 254);
      auto password = need_string(body, "password", 1024);
      int64_t minute = unix_now() / 60;
      auto& slot = login_attempts_[email + "|" + req.remote_address];
      if (slot.first != minute) slot = {minute, 0};
      if (++slot.second > settings_.login_attempts_per_minute) {
        return error_reply(429, "too_many_requests", "too many sign-in attempts; wait a minute");
      }
      User u;
      std::string hash;
      soci::indicator ri, vi;
      long long rid = 0, vid = 0;
      db_.sql() << "SELECT id, email, name, role, password_hash, resident_id, visitor_id FROM users WHERE email = :e",
          soci::use(email), soci::into(u.id), soci::into(u.email), soci::into(u.name),
          soci::into(u.role), soci::into(hash), soci::into(rid, ri), soci::into(vid, vi);
      if (!db_.sql().got_data() || !verify_password(hash, password)) {
        return error_reply(401, "unauthenticated", "wrong email or password");
      }
      u.resident_id = ri == soci::i_ok ? rid : 0;
      u.visitor_id = vi == soci::i_ok ? vid : 0;
      std::string token = random_token(), csrf = random_token();
      long long expires = unix_now() + settings_.session_ttl.count();
      db_.sql() << "INSERT INTO sessions (token, user_id, csrf, expires_at) VALUES (:a, :b, :c, :d)",
          soci::use(token), soci::use(u.id), soci::use(csrf), soci::use(expires);
      audit(u.email, "auth.login", "user:" + std::to_string(u.id));
      auto res = json_reply(200, {{"user", u.to_json()}, {"csrfToken", csrf}});
      res.with_header("Set-Cookie", "parlor_session=" + token + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                        std::to_string(settings_.session_ttl.count()) +
                                        (settings_.secure_cookies ? "; Secure" : ""));
      return res;
    }

    // -- everything else needs a session --
    User u;
    {
      std::string token = cookie_value(req, "parlor_session");
      if (token.empty() || token.size() > 128) return error_reply(401, "unauthenticated", "please sign in");
      long long expires = 0, rid = 0, vid = 0;
      soci::indicator ri, vi;
      db_.sql() << "SELECT u.id, u.email, u.name, u.role, u.resident_id, u.visitor_id, s.csrf, s.expires_at "
                   "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token = :t",
          soci::use(token), soci::into(u.id), soci::into(u.email), soci::into(u.name),
          soci::into(u.role), soci::into(rid, ri), soci::into(vid, vi), soci::into(u.csrf),
          soci::into(expires);
      if (!db_.sql().got_data() || expires < unix_now()) {
        return error_reply(401, "unauthenticated", "your session has expired; please sign in again");
      }
      u.resident_id = ri == soci::i_ok ? rid : 0;
      u.visitor_id = vi == soci::i_ok ? vid : 0;
      if (m != "GET" && m != "HEAD" && req.header("x-csrf-token") != u.csrf) {
        return error_reply(403, "forbidden", "missing or wrong X-CSRF-Token header");
      }
    }
    auto require_staff = [&] {
      if (!is_staff(u.role)) throw forbidden("staff only");
    };
    auto actor = u.email;

    if (parts.size() == 2 && parts[0] == "auth" && parts[1] == "me" && m == "GET") {
      return json_reply(200, {{"user", u.to_json()}, {"csrfToken", u.csrf}});
    }
    if (parts.size() == 2 && parts[0] == "auth" && parts[1] == "logout" && m == "POST") {
      std::string token = cookie_value(req, "parlor_session");
      db_.sql() << "DELETE FROM sessions WHERE token = :t", soci::use(token);
      auto res = json_reply(200, json::object());
      res.with_header("Set-Cookie", "parlor_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
      return res;
    }

    auto load_rules = [&] {
      VisitRules r;
      db_.sql() << "SELECT bookable_start_hour, bookable_end_hour, min_notice_minutes, max_advance_days, "
                   "max_duration_minutes, max_visits_per_resident_per_week, join_window_minutes FROM visit_rules WHERE id = 1",
          soci::into(r.bookable_start_hour), soci::into(r.bookable_end_hour), soci::into(r.min_notice_minutes),
          soci::into(r.max_advance_days), soci::into(r.max_duration_minutes),
          soci::into(r.max_visits_per_resident_per_week), soci::into(r.join_window_minutes);
      return r;
    };
    auto rules_json = [](const VisitRules& r) {
      return json{{"bookableStartHour", r.bookable_start_hour}, {"bookableEndHour", r.bookable_end_hour},
                  {"minNoticeMinutes", r.min_notice_minutes}, {"maxAdvanceDays", r.max_advance_days},
                  {"maxDurationMinutes", r.max_duration_minutes},
                  {"maxVisitsPerResidentPerWeek", r.max_visits_per_resident_per_week},
                  {"joinWindowMinutes", r.join_window_minutes}};
    };
    auto approval_status = [&](long long visitor_id, long long resident_id) {
      std::string s;
      db_.sql() << "SELECT status FROM approvals WHERE visitor_id = :v AND resident_id = :r",
          soci::use(visitor_id), soci::use(resident_id), soci::into(s);
      return db_.sql().got_data() ? s : std::string();
    };
    struct VisitRow {
      long long id = 0, resident_id = 0, start = 0;
      int duration = 0, privileged = 0;
      std::string status, room, ended_reason, resident_name;
      std::vector<std::pair<long long, std::string>> visitors;
    };
    auto load_visit = [&](long long id) {
      VisitRow v;
      db_.sql() << "SELECT v.id, v.resident_id, v.start_at, v.duration_minutes, v.privileged, v.status, v.room, "
                   "v.ended_reason, r.name FROM visits v JOIN residents r ON r.id = v.resident_id WHERE v.id = :id",
          soci::use(id), soci::into(v.id), soci::into(v.resident_id), soci::into(v.start),
          soci::into(v.duration), soci::into(v.privileged), soci::into(v.status), soci::into(v.room),
          soci::into(v.ended_reason), soci::into(v.resident_name);
      if (!db_.sql().got_data()) throw not_found("visit");
      soci::rowset<soci::row> rs = (db_.sql().prepare
          << "SELECT vv.visitor_id, vi.name FROM visit_visitors vv JOIN visitors vi ON vi.id = vv.visitor_id "
             "WHERE vv.visit_id = :id ORDER BY vv.visitor_id", soci::use(id));
      for (const auto& row : rs) {
        v.visitors.emplace_back(as_int(row, 0), row.get<std::string>(1));
      }
      return v;
    };
    auto visit_json = [&](const VisitRow& v) {
      json vis = json::array();
      for (auto& [id, name] : v.visitors) vis.push_back({{"id", id}, {"name", name}});
      json j = {{"id", v.id}, {"residentId", v.resident_id}, {"residentName", v.resident_name},
                {"visitors", vis}, {"start", iso_time(v.start)},
                {"end", iso_time(v.start + v.duration * 60)}, {"durationMinutes", v.duration},
                {"privileged", v.privileged != 0}, {"status", v.status}, {"room", v.room},
                {"recorded", false}};
      if (!v.ended_reason.empty()) j["endedReason"] = v.ended_reason;
      return j;
    };
    auto may_see_visit = [&](const VisitRow& v) {
      if (is_staff(u.role)) return true;
      if (u.role == "resident") return u.resident_id == v.resident_id;
      for (auto& [id, _] : v.visitors) {
        if (id == u.visitor_id) return true;
      }
      return false;
    };
    auto set_status = [&](VisitRow& v, VisitStatus to, const std::string& reason) {
      auto from = visit_status_from(v.status).value_or(VisitStatus::kRequested);
      if (!can_transition(from, to)) {
        throw conflict(std::string("a ") + v.status + " visit cannot become " + to_string(to));
      }
      std::string s = to_string(to);
      db_.sql() << "UPDATE visits SET status = :s, ended_reason = :r WHERE id = :id", soci::use(s),
          soci::use(reason), soci::use(v.id);
      v.status = s;
      v.ended_reason = reason;
    };

    // -- rules --
    if (parts.size() == 1 && parts[0] == "rules") {
      if (m == "GET") return json_reply(200, {{"rules", rules_json(load_rules())}});
      if (m == "PUT") {
        require_staff();
        auto b = parse_body(req);
        VisitRules r;
        r.bookable_start_hour = need_int(b, "bookableStartHour", 0, 24);
        r.bookable_end_hour = need_int(b, "bookableEndHour", 0, 24);
        r.min_notice_minutes = need_int(b, "minNoticeMinutes", 0, 60 * 24 * 30);
        r.max_advance_days = need_int(b, "maxAdvanceDays", 1, 365);
        r.max_duration_minutes = need_int(b, "maxDurationMinutes", 1, 24 * 60);
        r.max_visits_per_resident_per_week = need_int(b, "maxVisitsPerResidentPerWeek", 1, 1000);
        r.join_window_minutes = need_int(b, "joinWindowMinutes", 0, 120);
        try {
          validate_rules(r);
        } catch (const BadInput& e) {
          throw bad_request(e.what());
        }
        db_.sql() << "UPDATE visit_rules SET bookable_start_hour=:a, bookable_end_hour=:b, min_notice_minutes=:c, "
                     "max_advance_days=:d, max_duration_minutes=:e, max_visits_per_resident_per_week=:f, "
                     "join_window_minutes=:g WHERE id = 1",
            soci::use(r.bookable_start_hour), soci::use(r.bookable_end_hour), soci::use(r.min_notice_minutes),
            soci::use(r.max_advance_days), soci::use(r.max_duration_minutes),
            soci::use(r.max_visits_per_resident_per_week), soci::use(r.join_window_minutes);
        audit(actor, "rules.update", "rules", rules_json(r));
        return json_reply(200, {{"rules", rules_json(r)}});
      }
    }

    // -- residents --
    if (parts.size() == 1 && parts[0] == "residents") {
      if (m == "GET") {
        json list = json::array();
        std::string q = "SELECT id, name, unit, status FROM residents ORDER BY name";
        if (!is_staff(u.role)) {
          if (u.role != "visitor") throw forbidden();
          q = "SELECT r.id, r.name, r.unit, r.status FROM residents r JOIN approvals a ON a.resident_id = r.id "
              "WHERE a.visitor_id = " + std::to_string(u.visitor_id) + " AND a.status = 'approved' ORDER BY r.name";
        }
        soci::rowset<soci::row> rs = db_.sql().prepare << q;
        for (const auto& row : rs) {
          list.push_back({{"id", as_int(row, 0)}, {"name", row.get<std::string>(1)},
                          {"unit", row.get<std::string>(2)}, {"status", row.get<std::string>(3)}});
        }
        return json_reply(200, {{"residents", list}});
      }
      if (m == "POST") {
        require_staff();
        auto b = parse_body(req);
        auto name = need_string(b, "name");
        auto unit = need_string(b, "unit", 100, false);
        auto email = need_string(b, "email", 254, false);
        auto password = need_string(b, "password", 1024, false);
        long long id = db_.transaction([&] {
          long long rid = create_resident(name, unit);
          if (!email.empty()) create_user(email, name, "resident", password, rid, 0);
          return rid;
        });
        audit(actor, "resident.create", "resident:" + std::to_string(id));
        return json_reply(201, {{"resident", {{"id", id}, {"name", name}, {"unit", unit}, {"status", "active"}}}});
      }
    }

    // -- visitors --
    if (parts.size() == 1 && parts[0] == "visitors") {
      require_staff();
      if (m == "GET") {
        json list = json::array();
        soci::rowset<soci::row> rs = db_.sql().prepare
            << "SELECT id, name, email, phone, relationship FROM visitors ORDER BY name";
        for (const auto& row : rs) {
          list.push_back({{"id", as_int(row, 0)}, {"name", row.get<std::string>(1)},
                          {"email", row.get<std::string>(2)}, {"phone", row.get<std::string>(3)},
                          {"relationship", row.get<std::string>(4)}});
        }
        return json_reply(200, {{"visitors", list}});
      }
      if (m == "POST") {
        auto b = parse_body(req);
        auto name = need_string(b, "name");
        auto email = need_string(b, "email", 254);
        auto phone = need_string(b, "phone", 40, false);
        auto rel = need_string(b, "relationship", 100, false);
        auto password = need_string(b, "password", 1024, false);
        long long id = db_.transaction([&] {
          long long vid = create_visitor(name, email);
          db_.sql() << "UPDATE visitors SET phone = :p, relationship = :r WHERE id = :id",
              soci::use(phone), soci::use(rel), soci::use(vid);
          if (!password.empty()) create_user(email, name, "visitor", password, 0, vid);
          return vid;
        });
        audit(actor, "visitor.create", "visitor:" + std::to_string(id));
        return json_reply(201, {{"visitor", {{"id", id}, {"name", name}, {"email", email}, {"phone", phone},
                                             {"relationship", rel}}}});
      }
    }

    // -- approvals --
    if (!parts.empty() && parts[0] == "approvals") {
      auto approval_json = [&](long long id) {
        json j;
        soci::row row;
        db_.sql() << "SELECT a.id, a.visitor_id, v.name, a.resident_id, r.name, a.status, a.reason, a.decided_by, "
                     "a.decided_at, a.created_at FROM approvals a JOIN visitors v ON v.id = a.visitor_id "
                     "JOIN residents r ON r.id = a.resident_id WHERE a.id = :id", soci::use(id), soci::into(row);
        if (!db_.sql().got_data()) throw not_found("approval");
        return json{{"id", as_int(row, 0)}, {"visitorId", as_int(row, 1)},
                    {"visitorName", row.get<std::string>(2)}, {"residentId", as_int(row, 3)},
                    {"residentName", row.get<std::string>(4)}, {"status", row.get<std::string>(5)},
                    {"reason", row.get<std::string>(6)}, {"decidedBy", row.get<std::string>(7)},
                    {"decidedAt", iso_time(as_int(row, 8))}, {"createdAt", iso_time(as_int(row, 9))}};
      };
      if (parts.size() == 1 && m == "GET") {
        if (!is_staff(u.role) && u.role != "visitor") throw forbidden();
        std::string status = req.query_param("status");
        json list = json::array();
        std::vector<long long> ids;
        std::string q = "SELECT id FROM approvals WHERE 1=1";
        if (!is_staff(u.role)) q += " AND visitor_id = " + std::to_string(u.visitor_id);
        soci::rowset<soci::row> rs = status.empty()
            ? (db_.sql().prepare << q + " ORDER BY id")
            : (db_.sql().prepare << q + " AND status = :s ORDER BY id", soci::use(status));
        for (const auto& row : rs) ids.push_back(as_int(row, 0));
        for (auto id : ids) list.push_back(approval_json(id));
        return json_reply(200, {{"approvals", list}});
      }
      if (parts.size() == 1 && m == "POST") {
        auto b = parse_body(req);
        long long resident = need_id(b, "residentId");
        long long visitor = u.role == "visitor" ? u.visitor_id : 0;
        if (is_staff(u.role)) visitor = need_id(b, "visitorId");
        if (!visitor) throw forbidden();
        int ok = 0;
        db_.sql() << "SELECT COUNT(*) FROM residents WHERE id = :r", soci::use(resident), soci::into(ok);
        if (!ok) throw not_found("resident");
        if (!approval_status(visitor, resident).empty()) throw conflict("an approval for this pair already exists");
        long long now = unix_now(), id = 0;
        std::string pending = "pending";
        db_.sql() << "INSERT INTO approvals (visitor_id, resident_id, status, created_at) VALUES (:v, :r, :s, :t) RETURNING id",
            soci::use(visitor), soci::use(resident), soci::use(pending), soci::use(now), soci::into(id);
        audit(actor, "approval.request", "approval:" + std::to_string(id));
        return json_reply(201, {{"approval", approval_json(id)}});
      }
      if (parts.size() == 3 && parts[2] == "decision" && m == "POST") {
        require_staff();
        long long id = path_id(parts[1]);
        auto b = parse_body(req);
        auto status = need_string(b, "status", 20);
        if (status != "approved" && status != "denied" && status != "blocked") {
          throw bad_request("status must be approved, denied or blocked");
        }
        auto reason = need_string(b, "reason", 500, false);
        approval_json(id);  // 404 if missing
        long long now = unix_now();
        db_.sql() << "UPDATE approvals SET status = :s, reason = :r, decided_by = :a, decided_at = :t WHERE id = :id",
            soci::use(status), soci::use(reason), soci::use(actor), soci::use(now), soci::use(id);
        audit(actor, "approval." + status, "approval:" + std::to_string(id), {{"reason", reason}});
        return json_reply(200, {{"approval", approval_json(id)}});
      }
    }

    // -- visits --
    if (!parts.empty() && parts[0] == "visits") {
      if (parts.size() == 1 && m == "GET") {
        std::string q = "SELECT DISTINCT v.id FROM visits v LEFT JOIN visit_visitors vv ON vv.visit_id = v.id WHERE 1=1";
        if (u.role == "resident") q += " AND v.resident_id = " + std::to_string(u.resident_id);
        if (u.role == "visitor") q += " AND vv.visitor_id = " + std::to_string(u.visitor_id);
        auto num = [&](const std::string& name, const char* col) {
          auto v = req.query_param(name);
          if (!v.empty()) q += std::string(" AND ") + col + " = " + std::to_string(path_id(v));
        };
        num("residentId", "v.resident_id");
        num("visitorId", "vv.visitor_id");
        std::string status = req.query_param("status");
        if (!status.empty() && !visit_status_from(status)) throw bad_request("unknown status");
        if (!status.empty()) q += " AND v.status = '" + status + "'";  // validated above
        std::string date = req.query_param("date");
        if (!date.empty()) {
          int64_t day = parse_time(json(date + "T00:00:00Z"), "date") - settings_.utc_offset_minutes * 60;
          q += " AND v.start_at >= " + std::to_string(day) + " AND v.start_at < " + std::to_string(day + 86400);
        }
        std::vector<long long> ids;
        soci::rowset<soci::row> rs = db_.sql().prepare << q + " ORDER BY v.id";
        for (const auto& row : rs) ids.push_back(as_int(row, 0));
        json list = json::array();
        for (auto id : ids) list.push_back(visit_json(load_visit(id)));
        return json_reply(200, {{"visits", list}});
      }
      if (parts.size() == 1 && m == "POST") {
        auto b = parse_body(req);
        long long resident = need_id(b, "residentId");
        int64_t start = parse_time(b.value("start", json()), "start");
        int duration = need_int(b, "durationMinutes", 1, 24 * 60);
        bool privileged = b.value("privileged", false);
        std::vector<long long> visitors;
        if (u.role == "visitor") {
          visitors.push_back(u.visitor_id);
        } else if (is_staff(u.role)) {
          if (!b.contains("visitorIds") || !b["visitorIds"].is_array() || b["visitorIds"].empty()) {
            throw bad_request("visitorIds must list at least one visitor");
          }
          for (const auto& v : b["visitorIds"]) {
            if (!v.is_number_integer()) throw bad_request("visitorIds must be integer ids");
            visitors.push_back(v.get<long long>());
          }
        } else {
          throw forbidden("only visitors and staff book visits");
        }
        int exists = 0;
        db_.sql() << "SELECT COUNT(*) FROM residents WHERE id = :r", soci::use(resident), soci::into(exists);
        if (!exists) throw not_found("resident");
        for (auto v : visitors) {
          if (approval_status(v, resident) != "approved") {
            throw forbidden("visitor " + std::to_string(v) + " is not approved to visit this resident");
          }
        }
        BookingRequest br;
        br.start = start;
        br.duration_minutes = duration;
        br.utc_offset_minutes = settings_.utc_offset_minutes;
        br.by_staff = is_staff(u.role);
        long long week_start = start - 7 * 86400, week_end = start + 7 * 86400;
        db_.sql() << "SELECT COUNT(*) FROM visits WHERE resident_id = :r AND start_at > :a AND start_at < :b "
                     "AND status NOT IN ('cancelled', 'missed')",
            soci::use(resident), soci::use(week_start), soci::use(week_end), soci::into(br.visits_that_week);
        br.visits_that_week /= 2;  // a rolling two-week window around the start, halved
        if (auto why = check_booking(load_rules(), br, unix_now())) throw ApiError(422, "unprocessable", *why);
        std::string status = is_staff(u.role) ? "scheduled" : "requested";
        long long id = create_visit(resident, visitors, start, duration, privileged, status, u.id);
        audit(actor, "visit." + status, "visit:" + std::to_string(id));
        return json_reply(201, {{"visit", visit_json(load_visit(id))}});
      }
      if (parts.size() >= 2) {
        long long id = path_id(parts[1]);
        auto v = load_visit(id);
        if (!may_see_visit(v)) throw not_found("visit");
        if (parts.size() == 2 && m == "GET") return json_reply(200, {{"visit", visit_json(v)}});
        if (parts.size() == 3 && parts[2] == "events" && m == "GET") {
          require_staff();
          json list = json::array();
          soci::rowset<soci::row> rs = (db_.sql().prepare
              << "SELECT type, identity, at FROM call_events WHERE visit_id = :v ORDER BY id", soci::use(id));
          for (const auto& row : rs) {
            list.push_back({{"type", row.get<std::string>(0)}, {"identity", row.get<std::string>(1)},
                            {"at", iso_time(as_int(row, 2))}});
          }
          return json_reply(200, {{"events", list}});
        }
        if (parts.size() == 3 && parts[2] == "schedule" && m == "POST") {
          require_staff();
          set_status(v, VisitStatus::kScheduled, "");
          audit(actor, "visit.scheduled", "visit:" + std::to_string(id));
          return json_reply(200, {{"visit", visit_json(v)}});
        }
        if (parts.size() == 3 && parts[2] == "cancel" && m == "POST") {
          auto b = parse_body(req);
          auto reason = need_string(b, "reason", 500, false);
          set_status(v, VisitStatus::kCancelled, reason.empty() ? "cancelled by " + u.role : reason);
          audit(actor, "visit.cancelled", "visit:" + std::to_string(id), {{"reason", reason}});
          return json_reply(200, {{"visit", visit_json(v)}});
        }
        if (parts.size() == 4 && parts[2] == "moderation" && m == "POST") {
          require_staff();
          auto b = parse_body(req);
          if (parts[3] == "mute") {
            auto identity = need_string(b, "identity");
            auto track = need_string(b, "trackSid");
            bool muted = b.value("muted", true);
            video_.mute_track(v.room, identity, track, muted);
            audit(actor, muted ? "moderation.mute" : "moderation.unmute", "visit:" + std::to_string(id),
                  {{"identity", identity}, {"trackSid", track}});
            return json_reply(200, json::object());
          }
          if (parts[3] == "remove") {
            auto identity = need_string(b, "identity");
            video_.remove_participant(v.room, identity);
            audit(actor, "moderation.remove", "visit:" + std::to_string(id), {{"identity", identity}});
            return json_reply(200, json::object());
          }
          if (parts[3] == "end") {
            auto reason = need_string(b, "reason", 500, false);
            set_status(v, VisitStatus::kTerminated, reason.empty() ? "ended by staff" : reason);
            try {
              video_.send_data(v.room, json{{"type", "visit_ended"}, {"reason", v.ended_reason}}.dump(), "parlor");
            } catch (const InternalError&) {
              // The room may not exist yet; ending it still matters.
            }
            video_.end_room(v.room);
            audit(actor, "moderation.end", "visit:" + std::to_string(id), {{"reason", v.ended_reason}});
            return json_reply(200, {{"visit", visit_json(v)}});
          }
        }
      }
    }

    // -- join --
    if ((parts.size() == 2 && parts[0] == "calls" && parts[1] == "join") ||
        (parts.size() == 1 && parts[0] == "calls")) {
      if (m != "POST") throw ApiError(405, "bad_request", "use POST");
      auto b = parse_body(req);
      long long id = need_id(b, "visitId");
      bool monitor = b.value("monitor", false);
      auto v = load_visit(id);
      auto st = visit_status_from(v.status).value_or(VisitStatus::kRequested);
      JoinGrant g;
      g.room = v.room;
      g.name = u.name;
      if (is_staff(u.role) && monitor) {
        if (v.privileged) throw forbidden("privileged visits cannot be monitored");
        if (st != VisitStatus::kLive && st != VisitStatus::kScheduled) throw conflict("the visit is not running");
        g.identity = "staff-" + std::to_string(u.id);
        g.monitor = true;
      } else {
        if (u.role == "resident" && u.resident_id == v.resident_id) {
          g.identity = "resident-" + std::to_string(u.resident_id);
        } else if (u.role == "visitor") {
          bool listed = false;
          for (auto& [vid, _] : v.visitors) listed |= vid == u.visitor_id;
          if (!listed) throw not_found("visit");
          if (approval_status(u.visitor_id, v.resident_id) != "approved") {
            throw forbidden("you are not approved to visit this resident");
          }
          g.identity = "visitor-" + std::to_string(u.visitor_id);
        } else {
          throw forbidden("only the visit's resident and visitors join; staff monitor");
        }
        if (st != VisitStatus::kScheduled && st != VisitStatus::kLive) {
          throw conflict(std::string("the visit is ") + v.status);
        }
        if (!in_join_window(load_rules(), v.start, v.duration, unix_now())) {
          throw conflict("the visit is not open for joining now");
        }
      }
      g.metadata = json{{"visitId", v.id}, {"role", u.role}}.dump();
      auto t = video_.join_token(g);
      audit(actor, g.monitor ? "call.monitor" : "call.join", "visit:" + std::to_string(id));
      return json_reply(200, {{"url", settings_.livekit_url}, {"token", t.token}, {"room", g.room}, {"identity", g.identity},
                              {"name", g.name}, {"expiresAt", iso_time(t.expires_at)}, {"visit", visit_json(v)}});
    }

    // -- live visits (staff) --
    if (parts.size() == 1 && parts[0] == "live" && m == "GET") {
      require_staff();
      std::vector<long long> ids;
      soci::rowset<soci::row> rs = db_.sql().prepare << "SELECT id FROM visits WHERE status = 'live' ORDER BY id";
      for (const auto& row : rs) ids.push_back(as_int(row, 0));
      json list = json::array();
      for (auto id : ids) {
        auto v = load_visit(id);
        json j = visit_json(v);
        json people = json::array();
        try {
          for (const auto& p : video_.list_participants(v.room)) {
            json tracks = json::array();
            for (const auto& t : p.value("tracks", json::array())) {
              tracks.push_back({{"sid", t.value("sid", "")}, {"kind", t.value("type", "AUDIO")},
                                {"muted", t.value("muted", false)}});
            }
            people.push_back({{"identity", p.value("identity", "")}, {"name", p.value("name", "")},
                              {"tracks", tracks}});
          }
        } catch (const InternalError&) {
        }
        j["participants"] = people;
        list.push_back(j);
      }
      return json_reply(200, {{"visits", list}});
    }

    // -- recordings, audit --
    if (parts.size() == 1 && parts[0] == "recordings" && m == "GET") {
      require_staff();
      json list = json::array();
      std::string visit = req.query_param("visitId");
      std::string q = "SELECT id, visit_id, egress_id, status, size_bytes, duration_ms, sha256, started_at, ended_at FROM recordings";
      if (!visit.empty()) q += " WHERE visit_id = " + std::to_string(path_id(visit));
      soci::rowset<soci::row> rs = db_.sql().prepare << q + " ORDER BY id";
      for (const auto& row : rs) {
        list.push_back({{"id", as_int(row, 0)}, {"visitId", as_int(row, 1)},
                        {"egressId", row.get<std::string>(2)}, {"status", row.get<std::string>(3)},
                        {"sizeBytes", as_int(row, 4)}, {"durationMs", as_int(row, 5)},
                        {"sha256", row.get<std::string>(6)}, {"startedAt", iso_time(as_int(row, 7))},
                        {"endedAt", iso_time(as_int(row, 8))}});
      }
      return json_reply(200, {{"recordings", list}});
    }
    if (parts.size() == 1 && parts[0] == "audit" && m == "GET") {
      require_staff();
      int limit = 100;
      if (auto l = req.query_param("limit"); !l.empty()) limit = static_cast<int>(std::min<long long>(path_id(l), 1000));
      json list = json::array();
      soci::rowset<soci::row> rs = (db_.sql().prepare
          << "SELECT id, actor, action, target, at, details FROM audit_log ORDER BY id DESC LIMIT :l", soci::use(limit));
      for (const auto& row : rs) {
        list.push_back({{"id", as_int(row, 0)}, {"actor", row.get<std::string>(1)},
                        {"action", row.get<std::string>(2)}, {"target", row.get<std::string>(3)},
                        {"at", iso_time(as_int(row, 4))},
                        {"details", json::parse(row.get<std::string>(5), nullptr, false)}});
      }
      return json_reply(200, {{"entries", list}});
    }
    return error_reply(404, "not_found", "no such API endpoint: " + m + " " + req.path);
  } catch (const ApiError& e) {
    return error_reply(e.status, e.code, e.what());
  } catch (const BadInput& e) {
    return error_reply(400, "bad_request", e.what());
  } catch (const InternalError& e) {
    return error_reply(502, "internal", std::string("the video service failed: ") + e.what());
  } catch (const soci::soci_error& e) {
    return error_reply(500, "internal", "database error");
  } catch (const std::exception& e) {
    return error_reply(500, "internal", "internal error");
  }
}

void AppApi::run_jobs(int64_t now) {
  std::lock_guard lock(mutex_);
  struct Due {
    long long id;
    long long start;
    int duration;
    int warned;
    std::string status, room;
  };
  std::vector<Due> due;
  soci::rowset<soci::row> rs = db_.sql().prepare
      << "SELECT id, start_at, duration_minutes, warned, status, room FROM visits WHERE status IN ('scheduled', 'live')";
  for (const auto& row : rs) {
    due.push_back({as_int(row, 0), as_int(row, 1), static_cast<int>(as_int(row, 2)), static_cast<int>(as_int(row, 3)),
                   row.get<std::string>(4), row.get<std::string>(5)});
  }
  constexpr int64_t kWarningSeconds = 120;  // the 2-minute warning
  for (const auto& v : due) {
    int64_t end = v.start + v.duration * 60;
    try {
      if (v.status == "live" && !v.warned && now >= end - kWarningSeconds && now < end) {
        video_.send_data(v.room, json{{"type", "visit_warning"}, {"endsAt", iso_time(end)},
                                      {"secondsLeft", end - now}}.dump(), "parlor");
        db_.sql() << "UPDATE visits SET warned = 1 WHERE id = :id", soci::use(v.id);
      }
      if (now >= end) {
        std::string status = v.status == "live" ? "completed" : "missed";
        std::string reason = v.status == "live" ? "time limit reached" : "nobody joined";
        db_.sql() << "UPDATE visits SET status = :s, ended_reason = :r WHERE id = :id", soci::use(status),
            soci::use(reason), soci::use(v.id);
        if (v.status == "live") {
          try {
            video_.send_data(v.room, json{{"type", "visit_ended"}, {"reason", reason}}.dump(), "parlor");
          } catch (const InternalError&) {
          }
          video_.end_room(v.room);
        }
        long long t = now;
        std::string actor = "system", action = "visit." + status, target = "visit:" + std::to_string(v.id);
        std::string details = json{{"reason", reason}}.dump();
        db_.sql() << "INSERT INTO audit_log (actor, action, target, at, details) VALUES (:a, :b, :c, :d, :e)",
            soci::use(actor), soci::use(action), soci::use(target), soci::use(t), soci::use(details);
      }
    } catch (const std::exception&) {
      // The media tier may be briefly unreachable; the next run retries.
    }
  }
}

}  // namespace parlor::app
