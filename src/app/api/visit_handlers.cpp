// Visits: GET/POST /visits, GET /visits/{id}, /visits/{id}/events, and the state changes
// schedule, reschedule and cancel. /visits/{id}/moderation/* is passed on to
// moderation_handlers.cpp once the visit is loaded and visible to the caller.
#include "app/api/handlers.hpp"
#include "app/api/visit_rooms.hpp"
#include "common/errors.hpp"

namespace parlor::app {

namespace {

constexpr int kMaxDurationMinutes = 24 * 60;  // a hard bound before the facility's own rules

// Applies the facility's booking rules (visit_rules.hpp) to a new or moved visit; 422 with the
// rule's sentence when it does not fit. `except` is the visit being moved, if any.
void check_rules(ApiContext& ctx, const User& u, long long resident, int64_t start, int duration,
                 long long except = 0) {
  BookingRequest br;
  br.start = start;
  br.duration_minutes = duration;
  br.utc_offset_minutes = ctx.settings.utc_offset_minutes;
  br.by_staff = is_staff(u.role);
  br.visits_that_week = ctx.visits_that_week(resident, start, except);
  if (auto why = check_booking(ctx.load_rules(), br, unix_now())) {
    throw ApiError(422, "unprocessable", *why);
  }
}

// `privileged` (attorney or clergy: never recorded or monitored) is staff's decision: a visitor
// or resident who sends privileged: true gets 403 (false is accepted, it changes nothing).
void refuse_privileged_unless_staff(const User& u, const json& body) {
  if (!is_staff(u.role) && body.contains("privileged") && body["privileged"] != false) {
    throw forbidden("only staff can arrange a privileged visit");
  }
}

void check_approved(ApiContext& ctx, const std::vector<long long>& visitors, long long resident) {
  for (auto v : visitors) {
    if (ctx.approval_status(v, resident) != "approved") {
      throw forbidden("visitor " + std::to_string(v) + " is not approved to visit this resident");
    }
  }
}

http::Response list_visits(ApiContext& ctx, const Call& call) {
  const User& u = call.user;
  const auto& req = call.req;
  std::string q =
      "SELECT DISTINCT v.id FROM visits v LEFT JOIN visit_visitors vv ON vv.visit_id = v.id WHERE "
      "1=1";
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
    int64_t day =
        parse_time(json(date + "T00:00:00Z"), "date") - ctx.settings.utc_offset_minutes * 60;
    q += " AND v.start_at >= " + std::to_string(day) + " AND v.start_at < " +
         std::to_string(day + 86400);
  }
  std::vector<long long> ids;
  soci::rowset<soci::row> rs = ctx.db.sql().prepare << q + " ORDER BY v.id";
  for (const auto& row : rs) ids.push_back(as_int(row, 0));
  json list = json::array();
  for (auto id : ids) list.push_back(ApiContext::visit_json(ctx.load_visit_for(u, id)));
  return json_reply(200, {{"visits", list}});
}

http::Response book_visit(ApiContext& ctx, const Call& call) {
  const User& u = call.user;
  auto b = parse_body(call.req);
  long long resident = need_id(b, "residentId");
  int64_t start = parse_time(b.value("start", json()), "start");
  int duration = need_int(b, "durationMinutes", 1, kMaxDurationMinutes);
  bool privileged = b.value("privileged", false);
  refuse_privileged_unless_staff(u, b);
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
  ctx.db.sql() << "SELECT COUNT(*) FROM residents WHERE id = :r", soci::use(resident),
      soci::into(exists);
  if (!exists || !ctx.may_know_resident(u, resident)) throw not_found("resident");
  check_approved(ctx, visitors, resident);
  check_rules(ctx, u, resident, start, duration);
  std::string status = is_staff(u.role) ? "scheduled" : "requested";
  long long id = ctx.create_visit(resident, visitors, start, duration, privileged, status, u.id);
  ctx.audit(call.actor(), "visit." + status, "visit:" + std::to_string(id));
  return json_reply(201, {{"visit", ApiContext::visit_json(ctx.load_visit(id))}});
}

// POST /visits/{id}/reschedule {start, durationMinutes?}: staff, or the visitor who requested
// the visit. Only requested and scheduled visits move; the booking rules and approvals are
// checked again as for a new booking. A visitor moving a scheduled visit sends it back to
// `requested`, so staff confirm the new time as they confirmed the old one.
http::Response reschedule_visit(ApiContext& ctx, const Call& call, VisitRow& v) {
  const User& u = call.user;
  bool requester = u.role == "visitor" && v.created_by != 0 && v.created_by == u.id;
  if (!is_staff(u.role) && !requester) {
    throw forbidden("only staff or the visitor who requested the visit can reschedule it");
  }
  auto b = parse_body(call.req);
  refuse_privileged_unless_staff(u, b);
  int64_t start = parse_time(b.value("start", json()), "start");
  int duration = v.duration;
  if (b.contains("durationMinutes") && !b["durationMinutes"].is_null()) {
    duration = need_int(b, "durationMinutes", 1, kMaxDurationMinutes);
  }
  auto st = visit_status_from(v.status).value_or(VisitStatus::kRequested);
  if (st != VisitStatus::kRequested && st != VisitStatus::kScheduled) {
    throw conflict(std::string("a ") + v.status + " visit cannot be rescheduled");
  }
  std::vector<long long> visitors;
  for (auto& [id, _] : v.visitors) visitors.push_back(id);
  check_approved(ctx, visitors, v.resident_id);
  check_rules(ctx, u, v.resident_id, start, duration, v.id);

  std::string status = is_staff(u.role) ? v.status : to_string(VisitStatus::kRequested);
  long long start_ll = start;
  ctx.db.sql() << "UPDATE visits SET start_at = :s, duration_minutes = :d, status = :st, warned = "
                  "0, room_opened = 0 WHERE id = :id",
      soci::use(start_ll), soci::use(duration), soci::use(status), soci::use(v.id);
  // The room opens again with the new window (room_opened = 0 above); a room of the old window
  // closes now.
  if (!in_join_window(ctx.load_rules(), start, duration, unix_now())) {
    close_visit_room(ctx, v.id, v.room);
  }
  ctx.audit(call.actor(), "visit.rescheduled", "visit:" + std::to_string(v.id),
            {{"fromStart", iso_time(v.start)},
             {"fromDurationMinutes", v.duration},
             {"start", iso_time(start)},
             {"durationMinutes", duration},
             {"status", status}});
  return json_reply(200, {{"visit", ApiContext::visit_json(ctx.load_visit(v.id))}});
}

// POST /visits/{id}/cancel {reason?}. A visitor on a visit with other visitors leaves it: they
// are taken off the visit (audited as visit.left) and out of its room, so their join tokens no
// longer belong there (the webhook receiver removes them if they come back). The last visitor's
// cancel, the resident's or staff's cancels the visit for everyone and closes its room.
http::Response cancel_visit(ApiContext& ctx, const Call& call, VisitRow& v) {
  const User& u = call.user;
  auto b = parse_body(call.req);
  auto reason = need_string(b, "reason", 500, false);
  const std::string target = "visit:" + std::to_string(v.id);
  auto st = visit_status_from(v.status).value_or(VisitStatus::kRequested);
  if (u.role == "visitor" && v.visitors.size() > 1) {
    if (is_final(st)) throw conflict(std::string("a ") + v.status + " visit cannot be left");
    ctx.db.transaction([&] {
      ctx.db.sql() << "DELETE FROM visit_visitors WHERE visit_id = :v AND visitor_id = :w",
          soci::use(v.id), soci::use(u.visitor_id);
      ctx.audit(call.actor(), "visit.left", target,
                {{"visitorId", u.visitor_id}, {"reason", reason}});
    });
    if (ctx.video.supports_room_control()) {
      try {
        ctx.video.remove_participant(v.room, "visitor-" + std::to_string(u.visitor_id));
      } catch (const InternalError&) {
        // Not in the room (or no room yet): nothing to remove.
      }
    }
    return json_reply(200,
                      {{"visit", ApiContext::visit_json(ctx.load_visit(v.id))}, {"left", true}});
  }
  ctx.set_status(v, VisitStatus::kCancelled, reason.empty() ? "cancelled by " + u.role : reason);
  ctx.audit(call.actor(), "visit.cancelled", target, {{"reason", reason}});
  close_visit_room(ctx, v.id, v.room);
  return json_reply(200, {{"visit", ApiContext::visit_json(v)}});
}

}  // namespace

MaybeResponse handle_visits(ApiContext& ctx, const Call& call) {
  const auto& parts = call.parts;
  const User& u = call.user;
  const std::string& m = call.method();
  if (parts.empty() || parts[0] != "visits") return std::nullopt;
  if (parts.size() == 1 && m == "GET") return list_visits(ctx, call);
  if (parts.size() == 1 && m == "POST") return book_visit(ctx, call);
  if (parts.size() < 2) return std::nullopt;

  long long id = path_id(parts[1]);
  auto v = ctx.load_visit_for(u, id);
  if (!ApiContext::may_see_visit(u, v)) throw not_found("visit");
  const std::string target = "visit:" + std::to_string(id);
  if (parts.size() == 2 && m == "GET")
    return json_reply(200, {{"visit", ApiContext::visit_json(v)}});
  if (parts.size() == 3 && parts[2] == "events" && m == "GET") {
    call.require_staff();
    json list = json::array();
    soci::rowset<soci::row> rs =
        (ctx.db.sql().prepare
             << "SELECT type, identity, at FROM call_events WHERE visit_id = :v ORDER BY id",
         soci::use(id));
    for (const auto& row : rs) {
      list.push_back({{"type", row.get<std::string>(0)},
                      {"identity", row.get<std::string>(1)},
                      {"at", iso_time(as_int(row, 2))}});
    }
    return json_reply(200, {{"events", list}});
  }
  if (parts.size() == 3 && parts[2] == "schedule" && m == "POST") {
    call.require_staff();
    ctx.set_status(v, VisitStatus::kScheduled, "");
    ctx.audit(call.actor(), "visit.scheduled", target);
    return json_reply(200, {{"visit", ApiContext::visit_json(v)}});
  }
  if (parts.size() == 3 && parts[2] == "reschedule" && m == "POST")
    return reschedule_visit(ctx, call, v);
  if (parts.size() == 3 && parts[2] == "cancel" && m == "POST") return cancel_visit(ctx, call, v);
  if (parts.size() == 4 && parts[2] == "moderation" && m == "POST") {
    return handle_moderation(ctx, call, v, parts[3]);
  }
  return std::nullopt;
}

}  // namespace parlor::app
