// Joining a visit's call (POST /calls/join, also /api/calls) and the staff view of live visits
// (GET /live). Join tokens come from the video provider, least privilege: participants publish
// camera and microphone in their own room; staff monitor hidden and subscribe-only. A token
// works until the visit's end plus the grace, and only in a room the app opened (visit_rooms.hpp):
// a join inside the window opens the room if the media server lost it. A privileged visit's
// participants also get its end-to-end encryption key (domain/e2ee.hpp): derived, never stored,
// the same for everyone on that visit; staff never get it (monitoring is refused).
#include "app/api/handlers.hpp"
#include "app/api/visit_rooms.hpp"
#include "app/domain/e2ee.hpp"
#include "common/errors.hpp"

namespace parlor::app {

namespace {

http::Response join(ApiContext& ctx, const Call& call) {
  const User& u = call.user;
  auto b = parse_body(call.req);
  long long id = need_id(b, "visitId");
  bool monitor = b.value("monitor", false);
  auto v = ctx.load_visit(id);
  auto st = visit_status_from(v.status).value_or(VisitStatus::kRequested);
  JoinGrant g;
  g.room = v.room;
  g.name = u.name;
  if (is_staff(u.role) && monitor) {
    if (!ctx.video.supports_room_control()) {
      // A Twilio token cannot be hidden or subscribe-only, so it would make staff a participant.
      throw NotSupported(std::string("monitoring is not available with VIDEO_PROVIDER=") +
                         ctx.video.name());
    }
    if (v.privileged) throw forbidden("privileged visits cannot be monitored");
    if (st != VisitStatus::kLive && st != VisitStatus::kScheduled)
      throw conflict("the visit is not running");
    if (st != VisitStatus::kLive &&
        !in_join_window(ctx.load_rules(), v.start, v.duration, unix_now()))
      throw conflict("the visit's room is not open yet");
    g.identity = "staff-" + std::to_string(u.id);
    g.monitor = true;
  } else {
    if (u.role == "resident" && u.resident_id == v.resident_id) {
      g.identity = "resident-" + std::to_string(u.resident_id);
    } else if (u.role == "visitor") {
      bool listed = false;
      for (auto& [vid, _] : v.visitors) listed |= vid == u.visitor_id;
      if (!listed) throw not_found("visit");
      if (ctx.approval_status(u.visitor_id, v.resident_id) != "approved") {
        throw forbidden("you are not approved to visit this resident");
      }
      g.identity = "visitor-" + std::to_string(u.visitor_id);
    } else {
      throw forbidden("only the visit's resident and visitors join; staff monitor");
    }
    if (st != VisitStatus::kScheduled && st != VisitStatus::kLive) {
      throw conflict(std::string("the visit is ") + v.status);
    }
    if (!in_join_window(ctx.load_rules(), v.start, v.duration, unix_now())) {
      throw conflict("the visit is not open for joining now");
    }
  }
  std::string e2ee_key;
  if (v.privileged) {
    if (ctx.settings.e2ee_secret.empty()) {
      throw ApiError(503, "unavailable",
                     "privileged visits need end-to-end encryption, and no PARLOR_E2EE_SECRET is "
                     "configured");
    }
    e2ee_key = derive_e2ee_key(ctx.settings.e2ee_secret, v.id, v.room);
  }
  g.metadata = json{{"visitId", v.id}, {"role", u.role}}.dump();
  g.expires_at = token_expiry(ctx.settings, v.start, v.duration);
  if (ctx.video.supports_room_control()) open_visit_room(ctx, v, unix_now());
  auto t = ctx.video.join_token(g);
  ctx.audit(call.actor(), g.monitor ? "call.monitor" : "call.join", "visit:" + std::to_string(id));
  json answer = {{"provider", ctx.video.name()},
                 {"url", ctx.settings.livekit_url},
                 {"token", t.token},
                 {"room", g.room},
                 {"identity", g.identity},
                 {"name", g.name},
                 {"expiresAt", iso_time(t.expires_at)},
                 {"visit", ApiContext::visit_json(v)}};
  if (!e2ee_key.empty()) answer["e2ee"] = {{"key", e2ee_key}};
  auto res = json_reply(200, answer);
  res.with_header("Cache-Control", "no-store");  // a key inside
  return res;
}

http::Response live(ApiContext& ctx, const Call& call) {
  call.require_staff();
  std::vector<long long> ids;
  soci::rowset<soci::row> rs = ctx.db.sql().prepare
                               << "SELECT id FROM visits WHERE status = 'live' ORDER BY id";
  for (const auto& row : rs) ids.push_back(as_int(row, 0));
  json list = json::array();
  for (auto id : ids) {
    auto v = ctx.load_visit(id);
    json j = ApiContext::visit_json(v);
    json people = json::array();
    try {
      if (ctx.video.supports_room_control()) {
        for (const auto& p : ctx.video.list_participants(v.room)) {
          json tracks = json::array();
          for (const auto& t : p.value("tracks", json::array())) {
            tracks.push_back({{"sid", t.value("sid", "")},
                              {"kind", t.value("type", "AUDIO")},
                              {"muted", t.value("muted", false)}});
          }
          people.push_back({{"identity", p.value("identity", "")},
                            {"name", p.value("name", "")},
                            {"tracks", tracks}});
        }
      }
    } catch (const InternalError&) {
      // The media tier is unreachable or the room is gone: list the visit without people.
    }
    j["participants"] = people;
    list.push_back(j);
  }
  return json_reply(200, {{"visits", list}});
}

}  // namespace

MaybeResponse handle_calls(ApiContext& ctx, const Call& call) {
  const auto& parts = call.parts;
  if ((parts.size() == 2 && parts[0] == "calls" && parts[1] == "join") ||
      (parts.size() == 1 && parts[0] == "calls")) {
    if (call.method() != "POST") throw method_not_allowed("POST");
    return join(ctx, call);
  }
  if (parts.size() == 1 && parts[0] == "live" && call.method() == "GET") return live(ctx, call);
  return std::nullopt;
}

}  // namespace parlor::app
