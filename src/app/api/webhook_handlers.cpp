// POST /webhooks/livekit: signed LiveKit webhook events, applied once by event id: inserting the
// id into webhook_events is the claim, in the same transaction as the change it makes, so of
// several app instances receiving the same event (a retry, or a media server sending to each)
// exactly one applies it and the others answer 200 without a change. Participant and
// room events move the visit along; egress events keep the recordings table in step. A join
// that should not have happened (a token minted before the visit ended, or for a visitor who has
// since left it) is undone here: the room of a final visit is closed, a stranger removed.
#include <iostream>

#include "app/api/handlers.hpp"
#include "app/api/visit_recordings.hpp"
#include "app/api/visit_rooms.hpp"
#include "common/boundary.hpp"
#include "common/errors.hpp"

namespace parlor::app {

namespace {

// An egress time further ahead of our clock than this is not believed.
constexpr int64_t kClockSkewSeconds = 300;

// LiveKit's EgressInfo (JSON form): the first file result names the recording's file: its
// `location` (the full path for a local file, a URL once uploaded) or else its `filename`
// (relative to the recordings directory). Durations are nanoseconds. The file's hash is taken
// by the jobs (visit_recordings.hpp), off the request thread.
void record_egress(ApiContext& ctx, long long visit_id, const json& eg, int64_t now) {
  std::string egress_id = eg.value("egressId", ""), status = eg.value("status", "EGRESS_STARTING");
  if (egress_id.empty()) return;
  json file;
  if (eg.contains("fileResults") && eg["fileResults"].is_array() && !eg["fileResults"].empty()) {
    file = eg["fileResults"][0];
  } else if (eg.contains("file") && eg["file"].is_object()) {
    file = eg["file"];
  }
  auto number = [](const json& obj, const char* key) -> long long {
    // int64 fields arrive as strings (proto3 JSON) or numbers
    if (!obj.is_object() || !obj.contains(key)) return 0;
    const auto& v = obj[key];
    if (v.is_number_integer()) return v.get<long long>();
    if (v.is_string()) {
      try {
        return std::stoll(v.get<std::string>());
      } catch (const std::exception&) {
      }
    }
    return 0;
  };
  std::string location = file.is_object() ? file.value("location", "") : "";
  if (location.empty() || location.find("://") != std::string::npos) {
    std::string name = file.is_object() ? file.value("filename", "") : "";
    if (!name.empty()) location = name;
  }
  long long size = number(file, "size"), duration_ms = number(file, "duration") / 1000000;
  // The egress's own times (Unix nanoseconds) when it gives plausible ones, else our clock:
  // retention counts from the recording's real end, not from when the webhook arrived.
  auto when = [&](const char* key) -> long long {
    long long ns = number(eg, key);
    long long s = ns / 1000000000;
    return s > 0 && s <= now + kClockSkewSeconds ? s : now;
  };
  const bool final = status == "EGRESS_COMPLETE" || status == "EGRESS_FAILED" ||
                     status == "EGRESS_ABORTED" || status == "EGRESS_LIMIT_REACHED";
  // Events of one egress may reach different instances at once: the unique egress_id decides.
  long long started = when("startedAt");
  ctx.db.sql() << "INSERT INTO recordings (visit_id, egress_id, status, started_at) VALUES (:v, "
                  ":e, :s, :t) ON CONFLICT (egress_id) DO NOTHING",
      soci::use(visit_id), soci::use(egress_id), soci::use(status), soci::use(started);
  // Webhooks may arrive out of order: a late "active" never undoes an end.
  ctx.db.sql() << "UPDATE recordings SET status = :s WHERE egress_id = :e AND status NOT IN "
                  "('EGRESS_COMPLETE', 'EGRESS_FAILED', 'EGRESS_ABORTED', 'EGRESS_LIMIT_REACHED')",
      soci::use(status), soci::use(egress_id);
  // Once hashed, the file's location and size are the manifest's, not the media tier's.
  if (!location.empty()) {
    ctx.db.sql() << "UPDATE recordings SET location = :l WHERE egress_id = :e AND hashed = 0",
        soci::use(location), soci::use(egress_id);
  }
  if (size > 0 || duration_ms > 0) {
    ctx.db.sql() << "UPDATE recordings SET size_bytes = :s, duration_ms = :d WHERE egress_id = :e "
                    "AND hashed = 0",
        soci::use(size), soci::use(duration_ms), soci::use(egress_id);
  }
  if (final) {
    long long ended = when("endedAt");
    ctx.db.sql() << "UPDATE recordings SET ended_at = :t WHERE egress_id = :e AND ended_at = 0",
        soci::use(ended), soci::use(egress_id);
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
  long long went_live = 0, ended = 0;  // visits whose recording starts / stops after the commit
  std::string refused_egress;          // an egress of a privileged visit's room, to be stopped
  long long refused_visit = 0;
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
        went_live = visit_id;
      }
    } else if (type == "room_finished" && st == VisitStatus::kLive) {
      std::string done = "completed", why = "room closed";
      soci::statement st =
          (ctx.db.sql().prepare << "UPDATE visits SET status = :s, ended_reason = :r WHERE id = "
                                   ":v AND status = :old",
           soci::use(done), soci::use(why), soci::use(visit_id), soci::use(status));
      if (ctx.db.execute(st) == 1) {
        ctx.audit("livekit", "visit.completed", "visit:" + std::to_string(visit_id));
        ended = visit_id;
      }
    } else if (type.rfind("egress_", 0) == 0 && event.contains("egressInfo") &&
               event["egressInfo"].is_object()) {
      if (ctx.load_visit(visit_id).privileged) {
        // Never recorded, whoever started it: not linked, stopped below, audited.
        if (type != "egress_ended") refused_egress = event["egressInfo"].value("egressId", "");
        refused_visit = visit_id;
      } else {
        record_egress(ctx, visit_id, event["egressInfo"], now);
      }
    }
  });
  // Recording follows the visit, after the commit; the media tier's answer never fails the
  // webhook (a failed start is audited and retried by the jobs).
  if (went_live || ended) {
    if (auto caught = guarded([&] {
          if (went_live) start_visit_recording(ctx, ctx.load_visit(went_live), unix_now());
          if (ended) stop_visit_recording(ctx, ended);
        })) {
      std::cerr << "parlor app: recording after " << type << ": " << caught->message << "\n";
    }
  }
  if (!refused_egress.empty() && ctx.video.supports_recording()) {
    std::string outcome = "stopped";
    try {
      ctx.video.stop_recording(refused_egress);
    } catch (const std::exception& e) {
      outcome = std::string("stop failed: ") + e.what();
    }
    ctx.audit("system", "recording.refused", "visit:" + std::to_string(refused_visit),
              {{"egressId", refused_egress},
               {"room", room},
               {"reason", "privileged visits are never recorded"},
               {"outcome", outcome}});
  }
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
