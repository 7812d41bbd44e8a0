// POST /webhooks/livekit: signed LiveKit webhook events, applied once by event id: inserting the
// id into webhook_events is the claim, in the same transaction as the change it makes, so of
// several app instances receiving the same event (a retry, or a media server sending to each)
// exactly one applies it and the others answer 200 without a change. Participant and
// room events move the visit along; egress events keep the recordings table in step. A join
// that should not have happened (a token minted before the visit ended, or for a visitor who has
// since left it) is undone here: the room of a final visit is closed, a stranger removed.
#include "app/api/handlers.hpp"
#include "app/api/visit_rooms.hpp"
#include "common/errors.hpp"

namespace parlor::app {

namespace {

// LiveKit's EgressInfo (JSON form): the first file result names the recording's file, relative
// to the recordings directory for local egress. Durations are nanoseconds.
void record_egress(ApiContext& ctx, long long visit_id, const json& eg, int64_t now) {
  std::string egress_id = eg.value("egressId", ""), status = eg.value("status", "EGRESS_STARTING");
  if (egress_id.empty()) return;
  json file;
  if (eg.contains("fileResults") && eg["fileResults"].is_array() && !eg["fileResults"].empty()) {
    file = eg["fileResults"][0];
  } else if (eg.contains("file") && eg["file"].is_object()) {
    file = eg["file"];
  }
  auto number = [&](const char* key) -> long long {  // int64 fields arrive as strings or numbers
    if (!file.is_object() || !file.contains(key)) return 0;
    const auto& v = file[key];
    if (v.is_number_integer()) return v.get<long long>();
    if (v.is_string()) {
      try {
        return std::stoll(v.get<std::string>());
      } catch (const std::exception&) {
      }
    }
    return 0;
  };
  std::string location = file.is_object() ? file.value("filename", "") : "";
  long long size = number("size"), duration_ms = number("duration") / 1000000;
  // Events of one egress may reach different instances at once: the unique egress_id decides.
  ctx.db.sql() << "INSERT INTO recordings (visit_id, egress_id, status, started_at) VALUES (:v, "
                  ":e, :s, :t) ON CONFLICT (egress_id) DO NOTHING",
      soci::use(visit_id), soci::use(egress_id), soci::use(status), soci::use(now);
  ctx.db.sql() << "UPDATE recordings SET status = :s WHERE egress_id = :e", soci::use(status),
      soci::use(egress_id);
  if (!location.empty()) {
    ctx.db.sql() << "UPDATE recordings SET location = :l WHERE egress_id = :e", soci::use(location),
        soci::use(egress_id);
  }
  if (size > 0 || duration_ms > 0) {
    ctx.db.sql() << "UPDATE recordings SET size_bytes = :s, duration_ms = :d WHERE egress_id = :e",
        soci::use(size), soci::use(duration_ms), soci::use(egress_id);
  }
  if (status == "EGRESS_COMPLETE" || status == "EGRESS_FAILED" || status == "EGRESS_ABORTED") {
    ctx.db.sql() << "UPDATE recordings SET ended_at = :t WHERE egress_id = :e", soci::use(now),
        soci::use(egress_id);
  }
}

}  // namespace

MaybeResponse handle_webhook(ApiContext& ctx, const http::Request& req,
                             const std::vector<std::string>& parts) {
  if (!(parts.size() == 2 && parts[0] == "webhooks" && parts[1] == "livekit")) return std::nullopt;
  if (req.method != "POST") throw method_not_allowed("POST");
  json event;
  try {
    event = ctx.video.verify_webhook(req.body, req.header("authorization"));
  } catch (const Unauthenticated& e) {
    return error_reply(401, "unauthenticated", std::string("webhook rejected: ") + e.what());
  }
  std::string id = event.value("id", "");
  if (id.empty()) throw bad_request("webhook event has no id");
  std::string type = event.value("event", "");
  std::string room = event.contains("room") ? event["room"].value("name", "") : "";
  std::string identity =
      event.contains("participant") ? event["participant"].value("identity", "") : "";
  if (room.empty() && event.contains("egressInfo"))
    room = event["egressInfo"].value("roomName", "");
  enum class Undo { kNone, kCloseRoom, kRemove } undo = Undo::kNone;
  long long undo_visit = 0;
  std::string undo_status;
  ctx.db.transaction([&] {
    long long now = unix_now();
    // The claim. On PostgreSQL a concurrent insert of the same id waits for the other
    // transaction: its commit makes this one a duplicate, its rollback lets this one apply.
    soci::statement claim =
        (ctx.db.sql().prepare << "INSERT INTO webhook_events (event_id, received_at) VALUES "
                                 "(:i, :t) ON CONFLICT (event_id) DO NOTHING",
         soci::use(id), soci::use(now));
    if (ctx.db.execute(claim) == 0) return;  // seen before: answered 200, nothing changes
    long long visit_id = 0;
    std::string status;
    soci::indicator ind;
    ctx.db.sql() << "SELECT id, status FROM visits WHERE room = :r", soci::use(room),
        soci::into(visit_id, ind), soci::into(status);
    if (ind != soci::i_ok || visit_id == 0) return;
    ctx.db.sql()
        << "INSERT INTO call_events (visit_id, type, identity, at) VALUES (:v, :t, :i, :a)",
        soci::use(visit_id), soci::use(type), soci::use(identity), soci::use(now);
    auto st = visit_status_from(status).value_or(VisitStatus::kScheduled);
    // A join outside the window (into a room someone made by hand) does not start the visit; the
    // periodic room check closes that room.
    auto visit_open = [&](long long id) {
      auto v = ctx.load_visit(id);
      return in_join_window(ctx.load_rules(), v.start, v.duration, now);
    };
    if (type == "participant_joined" &&
        (is_final(st) || !identity_belongs(ctx.load_visit(visit_id), identity))) {
      undo = is_final(st) ? Undo::kCloseRoom : Undo::kRemove;
      undo_visit = visit_id;
      undo_status = status;
    } else if (type == "participant_joined" && can_transition(st, VisitStatus::kLive) &&
               visit_open(visit_id)) {
      std::string live = "live";
      soci::statement st =
          (ctx.db.sql().prepare << "UPDATE visits SET status = :s WHERE id = :v AND status = :old",
           soci::use(live), soci::use(visit_id), soci::use(status));
      // Another instance (the jobs, staff) moved it since the SELECT: theirs stands.
      if (ctx.db.execute(st) == 1) {
        ctx.audit("livekit", "visit.live", "visit:" + std::to_string(visit_id));
      }
    } else if (type == "room_finished" && st == VisitStatus::kLive) {
      std::string done = "completed", why = "room closed";
      soci::statement st =
          (ctx.db.sql().prepare << "UPDATE visits SET status = :s, ended_reason = :r WHERE id = "
                                   ":v AND status = :old",
           soci::use(done), soci::use(why), soci::use(visit_id), soci::use(status));
      if (ctx.db.execute(st) == 1) {
        ctx.audit("livekit", "visit.completed", "visit:" + std::to_string(visit_id));
      }
    } else if (type.rfind("egress_", 0) == 0 && event.contains("egressInfo") &&
               event["egressInfo"].is_object()) {
      record_egress(ctx, visit_id, event["egressInfo"], now);
    }
  });
  if (undo != Undo::kNone && ctx.video.supports_room_control()) {
    const std::string target = "visit:" + std::to_string(undo_visit);
    try {
      if (undo == Undo::kCloseRoom) {
        ctx.video.end_room(room);
        ctx.audit("system", "room.closed", target,
                  {{"room", room},
                   {"identity", identity},
                   {"status", undo_status},
                   {"reason", "a participant joined a " + undo_status + " visit"}});
      } else {
        ctx.video.remove_participant(room, identity);
        ctx.audit("system", "call.removed", target,
                  {{"room", room}, {"identity", identity}, {"reason", "not on the visit"}});
      }
    } catch (const InternalError&) {
      // Already gone; the periodic room check covers a room that is not.
    }
  }
  return json_reply(200, json::object());
}

}  // namespace parlor::app
