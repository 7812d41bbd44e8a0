#pragma once
// What every API handler works with: the settings, the store, the video provider, the signed-in
// user of the request, and the store helpers several resources share (audit log, visit rules,
// approvals, visits). Handlers run under AppApi's lock, so the context is used by one thread at
// a time.
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "app/api/api_support.hpp"
#include "app/auth/login_throttle.hpp"
#include "app/auth/shared_login_throttle.hpp"
#include "app/domain/visit_rules.hpp"
#include "app/store/database.hpp"
#include "app/video/video_provider.hpp"
#include "common/http/http_types.hpp"

namespace parlor::app {

struct AppSettings {
  std::string facility_name = "Parlor Demo Facility";
  std::string time_zone = "UTC";
  int utc_offset_minutes = 0;
  std::chrono::seconds session_ttl{std::chrono::hours(12)};
  bool secure_cookies = false;  // always mark the session cookie Secure (behind HTTPS)
  // Believe X-Forwarded-Proto (only behind a proxy that sets it): https there = Secure cookie.
  bool trust_proxy = false;
  LoginThrottleSettings login_throttle;
  size_t worker_threads = 2;   // API handlers and Argon2 run here, off the HTTP I/O thread
  size_t worker_queue = 64;    // requests waiting for a worker beyond this get 503
  std::string livekit_url;     // what browsers connect to (returned by /calls/join)
  std::string recordings_dir;  // where recording files live; downloads never leave it
  // A visit's room (visit_rooms.hpp). Join tokens stop working this long after the visit's end.
  std::chrono::seconds token_grace{std::chrono::minutes(5)};
  // How often the rooms on the media tier are compared with the visits.
  std::chrono::milliseconds reconcile_interval{std::chrono::seconds(30)};
  uint32_t room_departure_timeout = 120;  // seconds a room outlives its last participant
  uint32_t monitor_slots = 2;             // room places kept for staff monitors
  // Privileged visits' E2EE keys are derived from this (domain/e2ee.hpp); empty = privileged
  // visits cannot be joined (PARLOR_E2EE_SECRET, or the data directory's e2ee.key).
  std::string e2ee_secret;
};

struct User {
  long long id = 0;
  std::string email, name, role, csrf;
  long long resident_id = 0, visitor_id = 0;
  json to_json() const;
};

// One authenticated API request: the raw request, its path split after "/api", the user.
struct Call {
  const http::Request& req;
  const std::vector<std::string>& parts;
  const User& user;
  const std::string& method() const { return req.method; }
  const std::string& actor() const { return user.email; }  // as written to the audit log
  void require_staff() const {
    if (!is_staff(user.role)) throw forbidden("staff only");
  }
};

struct VisitRow {
  long long id = 0, resident_id = 0, start = 0, created_by = 0;
  int duration = 0, privileged = 0;
  bool recorded = false;  // visit_recorded() under the rules and provider at load time
  std::string status, room, ended_reason, resident_name;
  std::vector<std::pair<long long, std::string>> visitors;  // (visitor id, name)
};

class ApiContext {
 public:
  ApiContext(AppSettings settings, Database& db, VideoProvider& video)
      : settings(std::move(settings)),
        db(db),
        video(video),
        login_throttle(this->settings.login_throttle) {
    // On PostgreSQL several instances may serve one facility: they count sign-ins together.
    if (db.kind() == Database::Kind::kPostgres) {
      shared_login_throttle.emplace(this->settings.login_throttle, db);
    }
  }

  // passed in
  const AppSettings settings;
  Database& db;
  VideoProvider& video;
  // state
  LoginThrottle login_throttle;                              // SQLite: this process is the only one
  std::optional<SharedLoginThrottle> shared_login_throttle;  // PostgreSQL: in the database

  // Counts a sign-in attempt (LoginThrottle::attempt): 0 = go ahead, else Retry-After seconds.
  int64_t login_attempt(std::string_view account, int64_t now) {
    return shared_login_throttle ? shared_login_throttle->attempt(account, now)
                                 : login_throttle.attempt(account, now);
  }

  void audit(const std::string& actor, const std::string& action, const std::string& target,
             const json& details = json::object());

  VisitRules load_rules();
  static json rules_json(const VisitRules& r);
  // "approved", "pending", "denied", "blocked", or "" when the pair has no approval.
  std::string approval_status(long long visitor_id, long long resident_id);

  VisitRow load_visit(long long id);  // throws not_found
  // load_visit for what `viewer` may read: a visitor not (or no longer) approved for the
  // resident gets no resident name.
  VisitRow load_visit_for(const User& viewer, long long id);
  // Whether `u` may learn that the resident exists and see their name: staff, the resident
  // themself, a visitor with an approved approval.
  bool may_know_resident(const User& u, long long resident_id);
  static json visit_json(const VisitRow& v);
  static bool may_see_visit(const User& u, const VisitRow& v);
  // Moves a visit along the state machine (visit_rules.hpp); 409 if the move is not allowed.
  void set_status(VisitRow& v, VisitStatus to, const std::string& reason);
  // Non-cancelled, non-missed visits of the resident within a week either side of `start`,
  // halved (the booking rules' rolling weekly count), not counting visit `except`.
  int visits_that_week(long long resident_id, int64_t start, long long except = 0);

  long long create_user(const std::string& email, const std::string& name, const std::string& role,
                        const std::string& password, long long resident_id, long long visitor_id);
  long long create_resident(const std::string& name, const std::string& unit);
  long long create_visitor(const std::string& name, const std::string& email);
  void set_approval(long long visitor_id, long long resident_id, const std::string& status,
                    const std::string& actor);
  long long create_visit(long long resident_id, const std::vector<long long>& visitor_ids,
                         int64_t start, int duration_minutes, bool privileged,
                         const std::string& status, long long created_by);
};

}  // namespace parlor::app
