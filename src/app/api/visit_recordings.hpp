#pragma once
// A recorded visit's egress, from start to deletion (docs/recording.md, "In the app"):
//  * when a recorded visit (visit_recorded(): policy on, not privileged, a provider that
//    records) goes live, one room-composite egress is started through the LiveKit Egress API.
//    Exactly once per visit even with several app instances: the visit_egress row's primary key
//    is the claim. The recordings row (with the egress id) is written at start; the egress
//    webhooks keep it in step. A media tier that refuses or is down is audited
//    (recording.start_failed) and retried by the next jobs run while the visit is live; the
//    visit itself never waits for it.
//  * when the visit ends (time limit, room closed, staff), the egress is stopped (StopEgress; one
//    already ended is fine); a failed stop is retried by the jobs.
//  * a COMPLETE recording whose file is local (inside the recordings directory) is hashed
//    (SHA-256, size) off the HTTP thread and appended to the manifest chain.
//  * retention: recordings older than recordingRetentionDays after their end lose their file;
//    the row is marked deleted, the chain gets a "deleted" entry, audited recording.deleted.
//
// Called under AppApi's lock, except hash_file in AppApi::run_jobs.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/api/api_context.hpp"
#include "app/domain/recording_manifest.hpp"

namespace parlor::app {

// The egress file of a visit, relative to the media tier's recordings directory, with LiveKit's
// templates: visit-12/visit-12-2026-12-02T101500.mp4.
std::string visit_recording_path(long long visit_id);

// Starts the visit's egress unless it is not recorded, not live, or already has one (or another
// instance is starting it). Never throws for the media tier's failures; returns whether this
// call started one.
bool start_visit_recording(ApiContext& ctx, const VisitRow& v, int64_t now);

// Stops the visit's egress if one was started; a failure is logged and left to the jobs.
void stop_visit_recording(ApiContext& ctx, long long visit_id);

// The jobs' recording part (under the visit jobs' advisory lock): start retries for live
// recorded visits, stop retries for ended ones, retention.
void run_recording_jobs(ApiContext& ctx, int64_t now);

// Recordings whose file is waiting to be hashed: COMPLETE, not hashed, not deleted.
struct PendingHash {
  long long id = 0;
  std::string location;
};
std::vector<PendingHash> pending_hashes(ApiContext& ctx, size_t max);
// Stores the outcome of hashing `p` (nullopt: not a local file, or missing) and, for a digest,
// appends the recording to the manifest. A recording hashed meanwhile by another instance is
// left as it is.
void store_hash(ApiContext& ctx, const PendingHash& p, const std::optional<FileDigest>& digest,
                int64_t now);

}  // namespace parlor::app
