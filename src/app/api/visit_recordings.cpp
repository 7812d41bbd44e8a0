#include "app/api/visit_recordings.hpp"

#include <filesystem>
#include <iostream>

#include "app/store/manifest_store.hpp"
#include "common/errors.hpp"

namespace parlor::app {

namespace fs = std::filesystem;

namespace {

// A claim still "starting" after this long belongs to an instance that died mid-call: another
// may take it over. Longer than the Twirp call's own 10 s timeout, so a slow but alive start is
// never doubled.
constexpr int64_t kStaleClaimSeconds = 60;
// Rows each retention run looks at; the rest wait for the next run.
constexpr int kRetentionBatch = 100;

// Takes the visit's egress claim: the first to insert the row, or to take over a failed (or
// stale) one, starts the egress.
bool claim_egress(ApiContext& ctx, long long visit_id, int64_t now) {
  return ctx.db.transaction([&] {
    long long t = now, stale = now - kStaleClaimSeconds;
    std::string starting = "starting";
    soci::statement insert =
        (ctx.db.sql().prepare << "INSERT INTO visit_egress (visit_id, state, attempts, "
                                 "updated_at) VALUES (:v, :s, 1, :t) ON CONFLICT (visit_id) DO "
                                 "NOTHING",
         soci::use(visit_id), soci::use(starting), soci::use(t));
    if (ctx.db.execute(insert) == 1) return true;
    soci::statement retry =
        (ctx.db.sql().prepare << "UPDATE visit_egress SET state = :s, attempts = attempts + 1, "
                                 "updated_at = :t WHERE visit_id = :v AND (state = 'failed' OR "
                                 "(state = 'starting' AND updated_at < :stale))",
         soci::use(starting), soci::use(t), soci::use(visit_id), soci::use(stale));
    return ctx.db.execute(retry) == 1;
  });
}

void retention(ApiContext& ctx, int64_t now) {
  const int days = ctx.load_rules().recording_retention_days;
  if (days <= 0) return;  // keep forever
  struct Old {
    long long id, visit_id, ended_at;
    std::string egress_id, location;
  };
  std::vector<Old> old;
  {
    long long cutoff = now - static_cast<int64_t>(days) * 86400;
    int batch = kRetentionBatch;
    soci::rowset<soci::row> rs =
        (ctx.db.sql().prepare << "SELECT id, visit_id, ended_at, egress_id, location FROM "
                                 "recordings WHERE deleted_at = 0 AND ended_at > 0 AND ended_at "
                                 "<= :c ORDER BY id LIMIT :n",
         soci::use(cutoff), soci::use(batch));
    for (const auto& row : rs) {
      old.push_back({as_int(row, 0), as_int(row, 1), as_int(row, 2), row.get<std::string>(3),
                     row.get<std::string>(4)});
    }
  }
  for (const auto& r : old) {
    if (!retention_due(days, r.ended_at, now)) continue;
    bool removed = false;
    if (auto file = resolve_recording_file(ctx.settings.recordings_dir, r.location)) {
      std::error_code ec;
      removed = fs::remove(*file, ec);
      if (ec) {
        // Left for the next run; the row stays undeleted so nobody believes the file gone.
        std::cerr << "parlor app: retention: removing " << file->string() << ": " << ec.message()
                  << "\n";
        continue;
      }
    }
    ctx.db.transaction([&] {
      long long t = now;
      soci::statement mark =
          (ctx.db.sql().prepare << "UPDATE recordings SET deleted_at = :t WHERE id = :id AND "
                                   "deleted_at = 0",
           soci::use(t), soci::use(r.id));
      if (ctx.db.execute(mark) == 0) return;  // another instance did it
      ManifestEntry e;
      e.kind = "deleted";
      e.recording_id = r.id;
      e.visit_id = r.visit_id;
      e.egress_id = r.egress_id;
      e.location = r.location;
      e.at = now;
      append_manifest(ctx.db, e);
      ctx.audit("system", "recording.deleted", "recording:" + std::to_string(r.id),
                {{"visitId", r.visit_id},
                 {"location", r.location},
                 {"endedAt", iso_time(r.ended_at)},
                 {"retentionDays", days},
                 {"fileRemoved", removed}});
    });
  }
}

}  // namespace

std::string visit_recording_path(long long visit_id) {
  return "visit-" + std::to_string(visit_id) + "/{room_name}-{time}.mp4";
}

bool start_visit_recording(ApiContext& ctx, const VisitRow& v, int64_t now) {
  if (!v.recorded || v.privileged || v.status != "live") return false;
  if (!claim_egress(ctx, v.id, now)) return false;
  const std::string target = "visit:" + std::to_string(v.id);
  const std::string path = visit_recording_path(v.id);
  std::string egress_id;
  try {
    egress_id = ctx.video.start_room_recording(v.room, path);
  } catch (const std::exception& e) {
    std::string error = e.what();
    std::cerr << "parlor app: starting the recording of " << target << ": " << error << "\n";
    ctx.db.transaction([&] {
      long long t = now;
      ctx.db.sql() << "UPDATE visit_egress SET state = 'failed', last_error = :e, updated_at = :t "
                      "WHERE visit_id = :v",
          soci::use(error), soci::use(t), soci::use(v.id);
      int attempts = 0;
      ctx.db.sql() << "SELECT attempts FROM visit_egress WHERE visit_id = :v", soci::use(v.id),
          soci::into(attempts);
      // The first failure is the news; the retries every jobs run would only repeat it.
      if (attempts <= 1) {
        ctx.audit("system", "recording.start_failed", target,
                  {{"room", v.room}, {"error", error}, {"retry", "while the visit is live"}});
      }
    });
    return false;
  }
  ctx.db.transaction([&] {
    long long t = now;
    std::string starting = "EGRESS_STARTING";
    ctx.db.sql() << "UPDATE visit_egress SET state = 'started', egress_id = :e, last_error = '', "
                    "updated_at = :t WHERE visit_id = :v",
        soci::use(egress_id), soci::use(t), soci::use(v.id);
    // The egress_started webhook may have been applied first: the unique egress_id decides.
    ctx.db.sql() << "INSERT INTO recordings (visit_id, egress_id, status, started_at) VALUES (:v, "
                    ":e, :s, :t) ON CONFLICT (egress_id) DO NOTHING",
        soci::use(v.id), soci::use(egress_id), soci::use(starting), soci::use(t);
    ctx.audit("system", "recording.started", target,
              {{"egressId", egress_id}, {"room", v.room}, {"filepath", path}});
  });
  // The visit may have ended while the media tier answered (a webhook on another instance).
  std::string status;
  ctx.db.sql() << "SELECT status FROM visits WHERE id = :id", soci::use(v.id), soci::into(status);
  if (is_final(visit_status_from(status).value_or(VisitStatus::kLive))) {
    stop_visit_recording(ctx, v.id);
  }
  return true;
}

void stop_visit_recording(ApiContext& ctx, long long visit_id) {
  std::string state, egress_id;
  ctx.db.sql() << "SELECT state, egress_id FROM visit_egress WHERE visit_id = :v",
      soci::use(visit_id), soci::into(state), soci::into(egress_id);
  if (!ctx.db.sql().got_data() || state != "started" || !ctx.video.supports_recording()) return;
  try {
    ctx.video.stop_recording(egress_id);
  } catch (const std::exception& e) {
    // The jobs retry; the room's closing ends the egress on the media tier anyway.
    std::cerr << "parlor app: stopping recording " << egress_id << ": " << e.what() << "\n";
    return;
  }
  long long t = unix_now();
  ctx.db.sql() << "UPDATE visit_egress SET state = 'stopped', updated_at = :t WHERE visit_id = :v "
                  "AND state = 'started'",
      soci::use(t), soci::use(visit_id);
}

void run_recording_jobs(ApiContext& ctx, int64_t now) {
  if (ctx.video.supports_recording() && ctx.load_rules().record_visits) {
    std::vector<long long> to_start;
    {
      long long stale = now - kStaleClaimSeconds;
      soci::rowset<soci::row> rs =
          (ctx.db.sql().prepare
               << "SELECT v.id FROM visits v LEFT JOIN visit_egress e ON e.visit_id = v.id WHERE "
                  "v.status = 'live' AND v.privileged = 0 AND (e.visit_id IS NULL OR e.state = "
                  "'failed' OR (e.state = 'starting' AND e.updated_at < :stale)) ORDER BY v.id",
           soci::use(stale));
      for (const auto& row : rs) to_start.push_back(as_int(row, 0));
    }
    for (auto id : to_start) {
      try {
        start_visit_recording(ctx, ctx.load_visit(id), now);
      } catch (const std::exception& e) {
        std::cerr << "parlor app: recording of visit " << id << ": " << e.what() << "\n";
      }
    }
  }
  std::vector<long long> to_stop;
  {
    soci::rowset<soci::row> rs = ctx.db.sql().prepare
                                 << "SELECT e.visit_id FROM visit_egress e JOIN visits v ON v.id "
                                    "= e.visit_id WHERE e.state = 'started' AND v.status NOT IN "
                                    "('scheduled', 'live') ORDER BY e.visit_id";
    for (const auto& row : rs) to_stop.push_back(as_int(row, 0));
  }
  for (auto id : to_stop) stop_visit_recording(ctx, id);
  retention(ctx, now);
}

std::vector<PendingHash> pending_hashes(ApiContext& ctx, size_t max) {
  std::vector<PendingHash> out;
  int n = static_cast<int>(max);
  soci::rowset<soci::row> rs =
      (ctx.db.sql().prepare << "SELECT id, location FROM recordings WHERE status = "
                               "'EGRESS_COMPLETE' AND hashed = 0 AND deleted_at = 0 ORDER BY id "
                               "LIMIT :n",
       soci::use(n));
  for (const auto& row : rs) out.push_back({as_int(row, 0), row.get<std::string>(1)});
  return out;
}

void store_hash(ApiContext& ctx, const PendingHash& p, const std::optional<FileDigest>& digest,
                int64_t now) {
  const std::string target = "recording:" + std::to_string(p.id);
  ctx.db.transaction([&] {
    if (!digest) {
      soci::statement st = (ctx.db.sql().prepare << "UPDATE recordings SET hashed = 2 WHERE id = "
                                                    ":id AND hashed = 0",
                            soci::use(p.id));
      if (ctx.db.execute(st) == 0) return;
      ctx.audit("system", "recording.unverified", target,
                {{"location", p.location},
                 {"reason", "the file is not in the app's recordings directory"}});
      return;
    }
    long long size = static_cast<long long>(digest->size);
    soci::statement st =
        (ctx.db.sql().prepare << "UPDATE recordings SET sha256 = :h, size_bytes = :s, hashed = 1 "
                                 "WHERE id = :id AND hashed = 0",
         soci::use(digest->sha256), soci::use(size), soci::use(p.id));
    if (ctx.db.execute(st) == 0) return;  // hashed by another instance
    ManifestEntry e;
    e.kind = "recorded";
    e.recording_id = p.id;
    ctx.db.sql() << "SELECT visit_id, egress_id FROM recordings WHERE id = :id", soci::use(p.id),
        soci::into(e.visit_id), soci::into(e.egress_id);
    e.location = p.location;
    e.sha256 = digest->sha256;
    e.size_bytes = size;
    e.at = now;
    auto stored = append_manifest(ctx.db, e);
    ctx.audit("system", "recording.stored", target,
              {{"visitId", e.visit_id},
               {"location", p.location},
               {"sha256", digest->sha256},
               {"sizeBytes", size},
               {"manifestSeq", stored.seq}});
  });
}

}  // namespace parlor::app
