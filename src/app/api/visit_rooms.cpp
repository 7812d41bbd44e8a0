#include "app/api/visit_rooms.hpp"

#include <algorithm>
#include <iostream>
#include <map>

#include "app/api/visit_recordings.hpp"
#include "common/errors.hpp"

namespace parlor::app {

namespace {

struct VisitState {
  long long id = 0, start = 0;
  int duration = 0;
  std::string status;
};

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

int64_t token_expiry(const AppSettings& settings, int64_t start, int duration_minutes) {
  return start + static_cast<int64_t>(duration_minutes) * 60 + settings.token_grace.count();
}

void open_visit_room(ApiContext& ctx, const VisitRow& v, int64_t now) {
  RoomOptions o;
  if (v.privileged) o.metadata = privileged_room_metadata("", v.id);
  o.name = v.room;
  o.max_participants = static_cast<uint32_t>(1 + v.visitors.size()) + ctx.settings.monitor_slots;
  // Nobody joined yet: keep it until the tokens expire (the jobs close it earlier as missed).
  int64_t wait = token_expiry(ctx.settings, v.start, v.duration) - now;
  o.empty_timeout = static_cast<uint32_t>(std::clamp<int64_t>(wait, 1, 7 * 86400));
  o.departure_timeout = ctx.settings.room_departure_timeout;
  RoomSummary room = ctx.video.create_room(o);
  if (v.privileged && !recording_forbidden(room.metadata)) {
    // LiveKit keeps an existing room's metadata on CreateRoom: say it on the room itself.
    ctx.video.update_room_metadata(v.room, privileged_room_metadata(room.metadata, v.id));
  }
  mark_room_opened(ctx, v.id, true);
}

void mark_room_opened(ApiContext& ctx, long long visit_id, bool opened) {
  int flag = opened ? 1 : 0;
  ctx.db.sql() << "UPDATE visits SET room_opened = :o WHERE id = :id AND room_opened <> :o2",
      soci::use(flag), soci::use(visit_id), soci::use(flag);
}

void close_visit_room(ApiContext& ctx, long long visit_id, const std::string& room) {
  mark_room_opened(ctx, visit_id, false);
  if (!ctx.video.supports_room_control()) return;
  stop_visit_recording(ctx, visit_id);  // before the room goes, so the file ends cleanly
  try {
    ctx.video.end_room(room);
  } catch (const std::exception& e) {
    // The periodic check closes rooms of finished visits; say why this one is still open.
    std::cerr << "parlor app: closing room " << room << " failed: " << e.what() << "\n";
  }
}

std::string privileged_room_metadata(const std::string& existing, long long visit_id) {
  json j = json::parse(existing, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    j = json::object();
    // Keep what was there, whatever it was, next to our keys.
    if (!existing.empty()) j["previous"] = existing;
  }
  j["recording"] = "forbidden";
  j["privileged"] = true;
  j["visitId"] = visit_id;
  return j.dump();
}

bool recording_forbidden(const std::string& metadata) {
  json j = json::parse(metadata, nullptr, false);
  return j.is_object() && j.contains("recording") && j["recording"] == "forbidden";
}

bool identity_belongs(const VisitRow& v, const std::string& identity) {
  if (starts_with(identity, "staff-")) return true;
  if (identity == "resident-" + std::to_string(v.resident_id)) return true;
  for (const auto& [id, _] : v.visitors) {
    if (identity == "visitor-" + std::to_string(id)) return true;
  }
  return false;
}

void reconcile_rooms(ApiContext& ctx, int64_t now) {
  if (!ctx.video.supports_room_control()) return;
  std::vector<RoomSummary> rooms;
  try {
    rooms = ctx.video.list_rooms();
  } catch (const InternalError& e) {
    std::cerr << "parlor app: room check: " << e.what() << "\n";
    return;  // the next run retries
  }
  const VisitRules rules = ctx.load_rules();
  auto open_now = [&](const VisitState& v) {
    if (v.status == "live") return true;
    return v.status == "scheduled" && in_join_window(rules, v.start, v.duration, now);
  };

  // Visits that should have a room; each is ticked off as its room is seen.
  std::map<std::string, VisitState> wanted;
  {
    soci::rowset<soci::row> rs = ctx.db.sql().prepare
                                 << "SELECT id, start_at, duration_minutes, status, room FROM "
                                    "visits WHERE status IN ('scheduled', 'live')";
    for (const auto& row : rs) {
      VisitState v{as_int(row, 0), as_int(row, 1), static_cast<int>(as_int(row, 2)),
                   row.get<std::string>(3)};
      if (open_now(v)) wanted.emplace(row.get<std::string>(4), v);
    }
  }

  for (const auto& room : rooms) {
    if (wanted.erase(room.name)) continue;  // a live or open visit's room: left alone
    VisitState v;
    soci::indicator ind = soci::i_null;
    ctx.db.sql() << "SELECT id, start_at, duration_minutes, status FROM visits WHERE room = :r",
        soci::use(room.name), soci::into(v.id, ind), soci::into(v.start), soci::into(v.duration),
        soci::into(v.status);
    const bool known = ctx.db.sql().got_data() && ind == soci::i_ok;
    const bool final = known && is_final(visit_status_from(v.status).value_or(VisitStatus::kLive));
    // An empty room of a visit not due yet may be a hand-made one about to be used, and one no
    // visit knows may belong to someone else on a shared media tier: only people make them rogue.
    if (!final && room.num_participants == 0) continue;
    std::string why = known ? "the visit is " + v.status : "no visit has this room";
    try {
      ctx.video.end_room(room.name);
    } catch (const InternalError& e) {
      std::cerr << "parlor app: room check: closing " << room.name << ": " << e.what() << "\n";
      continue;
    }
    if (known) mark_room_opened(ctx, v.id, false);
    ctx.audit("system", "room.closed",
              known ? "visit:" + std::to_string(v.id) : "room:" + room.name,
              {{"room", room.name},
               {"participants", room.num_participants},
               {"status", known ? v.status : "unknown"},
               {"reason", why}});
  }

  // Missing rooms of live or open visits (a restarted media server): open them again.
  for (const auto& [name, v] : wanted) {
    try {
      open_visit_room(ctx, ctx.load_visit(v.id), now);
    } catch (const std::exception& e) {
      std::cerr << "parlor app: room check: opening " << name << ": " << e.what() << "\n";
    }
  }
}

}  // namespace parlor::app
