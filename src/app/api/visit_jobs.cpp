// The app's periodic visit jobs (AppServer runs them every --jobs-interval-ms):
//  * a live visit gets one `visit_warning` data message (topic "parlor") two minutes before its
//    end, audited as visit.warning once the media tier accepted it;
//  * a live visit at its time limit becomes `completed` ("time limit reached"): it is audited,
//    told `visit_ended`, and its room is closed;
//  * a scheduled visit whose time passed with nobody joining becomes `missed`, and its room is
//    closed;
//  * a visit's room is opened (CreateRoom) when its join window opens;
//  * every reconcile_interval, the rooms on the media tier are checked against the visits
//    (visit_rooms.hpp);
//  * recordings (visit_recordings.hpp): egress start and stop retries, retention.
// Store changes come first and media calls after, so an unreachable media tier never leaves a
// visit half-ended; a failed warning is retried on the next run.
//
// Several app instances on one PostgreSQL (docs/operations.md): a run holds an advisory lock, so
// one instance at a time does it and the others skip that tick; everything a run decides from
// (status, warned, room_opened, the room check's next time) is in the database, so whichever
// instance runs next continues where the last one stopped. A status change is acted on (audit,
// visit_ended, DeleteRoom) only by the run whose UPDATE changed the row, so a webhook applied
// meanwhile by another instance is never ended twice.
#include <chrono>
#include <iostream>

#include "app/api/handlers.hpp"
#include "app/api/visit_recordings.hpp"
#include "app/api/visit_rooms.hpp"
#include "common/errors.hpp"

namespace parlor::app {

namespace {
constexpr int64_t kWarningSeconds = 120;  // docs/api.md: the 2-minute warning
const std::string kReconcileJob = "reconcile_rooms";

// Whether the room check is due at `now_ms` (wall clock, shared by all instances through
// job_state); if so, books the next one.
bool reconcile_due(ApiContext& ctx, int64_t now_ms) {
  return ctx.db.transaction([&] {
    long long next = 0;
    soci::indicator ind = soci::i_null;
    ctx.db.sql() << "SELECT next_at_ms FROM job_state WHERE name = :n", soci::use(kReconcileJob),
        soci::into(next, ind);
    const bool known = ctx.db.sql().got_data() && ind == soci::i_ok;
    // A next time further away than one interval was booked by a clock ahead of ours: reset it.
    const long long interval = ctx.settings.reconcile_interval.count();
    if (known && now_ms < next && next - now_ms <= interval) return false;
    long long after = now_ms + interval;
    if (known) {
      ctx.db.sql() << "UPDATE job_state SET next_at_ms = :t WHERE name = :n", soci::use(after),
          soci::use(kReconcileJob);
    } else {
      ctx.db.sql() << "INSERT INTO job_state (name, next_at_ms) VALUES (:n, :t)",
          soci::use(kReconcileJob), soci::use(after);
    }
    return true;
  });
}
}  // namespace

void run_visit_jobs(ApiContext& ctx, int64_t now) {
  // One instance at a time; the others skip this tick (the holder does the work).
  Database::AdvisoryLock lock(ctx.db, kVisitJobsLockKey, /*wait=*/false);
  if (!lock.held()) return;
  struct Due {
    long long id;
    long long start;
    int duration;
    int warned;
    std::string status, room;
    int room_opened;
  };
  std::vector<Due> due;
  {
    soci::rowset<soci::row> rs = ctx.db.sql().prepare
                                 << "SELECT id, start_at, duration_minutes, warned, status, room, "
                                    "room_opened FROM visits WHERE status IN ('scheduled', 'live')";
    for (const auto& row : rs) {
      due.push_back({as_int(row, 0), as_int(row, 1), static_cast<int>(as_int(row, 2)),
                     static_cast<int>(as_int(row, 3)), row.get<std::string>(4),
                     row.get<std::string>(5), static_cast<int>(as_int(row, 6))});
    }
  }
  const bool room_control = ctx.video.supports_room_control();
  const VisitRules rules = ctx.load_rules();
  for (const auto& v : due) {
    const int64_t end = v.start + static_cast<int64_t>(v.duration) * 60;
    const std::string target = "visit:" + std::to_string(v.id);
    const bool live = v.status == "live";
    if (room_control && now < end && !v.room_opened &&
        in_join_window(rules, v.start, v.duration, now)) {
      try {
        open_visit_room(ctx, ctx.load_visit(v.id), now);
      } catch (const std::exception& e) {
        // The media tier is unreachable: the next run retries, and so does a join.
        std::cerr << "parlor app: opening room " << v.room << ": " << e.what() << "\n";
      }
    }
    try {
      if (live && !v.warned && room_control && now >= end - kWarningSeconds && now < end) {
        ctx.video.send_data(
            v.room,
            json{{"type", "visit_warning"}, {"endsAt", iso_time(end)}, {"secondsLeft", end - now}}
                .dump(),
            "parlor");
        ctx.db.transaction([&] {
          soci::statement st =
              (ctx.db.sql().prepare << "UPDATE visits SET warned = 1 WHERE id = :id AND warned = 0",
               soci::use(v.id));
          if (ctx.db.execute(st) == 0) return;  // already warned (the row changed meanwhile)
          ctx.audit("system", "visit.warning", target,
                    {{"endsAt", iso_time(end)}, {"secondsLeft", end - now}});
        });
      }
    } catch (const InternalError&) {
      // The media tier may be briefly unreachable or the room not open yet; the next run retries.
    }
    if (now < end) continue;
    try {
      std::string status = live ? "completed" : "missed";
      std::string reason = live ? "time limit reached" : "nobody joined";
      std::string expected = v.status;
      const bool changed = ctx.db.transaction([&] {
        soci::statement st =
            (ctx.db.sql().prepare << "UPDATE visits SET status = :s, ended_reason = :r WHERE id = "
                                     ":id AND status = :old",
             soci::use(status), soci::use(reason), soci::use(v.id), soci::use(expected));
        if (ctx.db.execute(st) == 0) return false;
        ctx.audit("system", "visit." + status, target, {{"reason", reason}});
        return true;
      });
      // Someone else ended it since the SELECT (a room_finished webhook, staff): theirs to act.
      if (!changed) continue;
      if (live && room_control) {
        try {
          ctx.video.send_data(v.room, json{{"type", "visit_ended"}, {"reason", reason}}.dump(),
                              "parlor");
        } catch (const InternalError&) {
          // Nobody left to tell; closing the room still matters.
        }
      }
      close_visit_room(ctx, v.id, v.room);
    } catch (const std::exception&) {
      // The store failed; the next run retries, and the room check closes a finished visit's room.
    }
  }
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  if (room_control && reconcile_due(ctx, now_ms)) reconcile_rooms(ctx, now);
  run_recording_jobs(ctx, now);
}

}  // namespace parlor::app
