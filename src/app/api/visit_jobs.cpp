// The app's periodic visit jobs (AppServer runs them every --jobs-interval-ms):
//  * a live visit gets one `visit_warning` data message (topic "parlor") two minutes before its
//    end, audited as visit.warning once the media tier accepted it;
//  * a live visit at its time limit becomes `completed` ("time limit reached"): it is audited,
//    told `visit_ended`, and its room is closed;
//  * a scheduled visit whose time passed with nobody joining becomes `missed`, and its room is
//    closed;
//  * a visit's room is opened (CreateRoom) when its join window opens;
//  * every reconcile_interval, the rooms on the media tier are checked against the visits
//    (visit_rooms.hpp).
// Store changes come first and media calls after, so an unreachable media tier never leaves a
// visit half-ended; a failed warning is retried on the next run.
#include <iostream>

#include "app/api/handlers.hpp"
#include "app/api/visit_rooms.hpp"
#include "common/errors.hpp"

namespace parlor::app {

namespace {
constexpr int64_t kWarningSeconds = 120;  // docs/api.md: the 2-minute warning
}

void run_visit_jobs(ApiContext& ctx, int64_t now) {
  struct Due {
    long long id;
    long long start;
    int duration;
    int warned;
    std::string status, room;
  };
  std::vector<Due> due;
  {
    soci::rowset<soci::row> rs = ctx.db.sql().prepare
                                 << "SELECT id, start_at, duration_minutes, warned, status, room "
                                    "FROM visits WHERE status IN ('scheduled', 'live')";
    for (const auto& row : rs) {
      due.push_back({as_int(row, 0), as_int(row, 1), static_cast<int>(as_int(row, 2)),
                     static_cast<int>(as_int(row, 3)), row.get<std::string>(4),
                     row.get<std::string>(5)});
    }
  }
  const bool room_control = ctx.video.supports_room_control();
  const VisitRules rules = ctx.load_rules();
  for (const auto& v : due) {
    const int64_t end = v.start + static_cast<int64_t>(v.duration) * 60;
    const std::string target = "visit:" + std::to_string(v.id);
    const bool live = v.status == "live";
    if (room_control && now < end && !ctx.rooms_opened.count(v.id) &&
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
          ctx.db.sql() << "UPDATE visits SET warned = 1 WHERE id = :id", soci::use(v.id);
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
      ctx.db.transaction([&] {
        ctx.db.sql()
            << "UPDATE visits SET status = :s, ended_reason = :r WHERE id = :id AND status = :old",
            soci::use(status), soci::use(reason), soci::use(v.id), soci::use(expected);
        ctx.audit("system", "visit." + status, target, {{"reason", reason}});
      });
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
  const auto clock = std::chrono::steady_clock::now();
  if (room_control && clock >= ctx.next_reconcile) {
    ctx.next_reconcile = clock + ctx.settings.reconcile_interval;
    reconcile_rooms(ctx, now);
  }
}

}  // namespace parlor::app
