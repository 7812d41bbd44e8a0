// Recordings, staff and admins only: GET /recordings?visitId= (the list) and
// GET /recordings/{id}/download (the file, with single-range HTTP Range support so browsers can
// seek; ?inline=1 serves it for the page's player instead of as an attachment). Files are only ever read from
// inside the recordings directory: the stored location is resolved, symlinks included, and
// anything that lands outside is treated as missing. The file is streamed from disk by the HTTP
// server (http::FileBody) in fixed-size chunks, so a download never holds the file in memory.
#include <filesystem>

#include "app/api/byte_range.hpp"
#include "app/api/handlers.hpp"
#include "app/domain/recording_manifest.hpp"

namespace parlor::app {

namespace fs = std::filesystem;

namespace {

json recording_json(const soci::row& row) {
  return {{"id", as_int(row, 0)},
          {"visitId", as_int(row, 1)},
          {"egressId", row.get<std::string>(2)},
          {"status", row.get<std::string>(3)},
          {"sizeBytes", as_int(row, 4)},
          {"durationMs", as_int(row, 5)},
          {"sha256", row.get<std::string>(6)},
          {"startedAt", iso_time(as_int(row, 7))},
          {"endedAt", iso_time(as_int(row, 8))},
          {"deleted", as_int(row, 9) != 0},
          {"deletedAt", iso_time(as_int(row, 9))}};
}

http::Response list(ApiContext& ctx, const Call& call) {
  json out = json::array();
  std::string visit = call.req.query_param("visitId");
  std::string q =
      "SELECT id, visit_id, egress_id, status, size_bytes, duration_ms, sha256, started_at, "
      "ended_at, deleted_at FROM recordings";
  if (!visit.empty()) q += " WHERE visit_id = " + std::to_string(path_id(visit));
  soci::rowset<soci::row> rs = ctx.db.sql().prepare << q + " ORDER BY id";
  for (const auto& row : rs) out.push_back(recording_json(row));
  return json_reply(200, {{"recordings", out}});
}

http::Response download(ApiContext& ctx, const Call& call, long long id) {
  std::string location;
  long long deleted_at = 0;
  ctx.db.sql() << "SELECT location, deleted_at FROM recordings WHERE id = :id", soci::use(id),
      soci::into(location), soci::into(deleted_at);
  if (!ctx.db.sql().got_data()) throw not_found("recording");
  if (deleted_at) {
    throw ApiError(410, "gone",
                   "the recording was deleted on " + iso_time(deleted_at) + " by the retention rule");
  }
  auto file = resolve_recording_file(ctx.settings.recordings_dir, location);
  if (!file) throw ApiError(404, "not_found", "the recording's file is not available");
  std::error_code ec;
  uint64_t size = fs::file_size(*file, ec);
  if (ec) throw ApiError(404, "not_found", "the recording's file is not available");

  auto range = parse_byte_range(call.req.header("range"), size);
  if (range.kind == ByteRange::Kind::kUnsatisfiable) {
    auto res = error_reply(
        416, "range_not_satisfiable",
        "the requested range is not within the recording's " + std::to_string(size) + " bytes");
    res.with_header("Content-Range", content_range(range, size));
    res.with_header("Accept-Ranges", "bytes");
    return res;
  }
  uint64_t first = 0, count = size;
  if (range.kind == ByteRange::Kind::kPartial) {
    first = range.first;
    count = range.length();
  }
  auto body = http::FileBody::open(file->string(), first, count);
  if (!body) throw ApiError(500, "internal", "the recording's file could not be read");
  if (first == 0) {  // a player's seeks come as later ranges; log each download once
    ctx.audit(call.actor(), "recording.download", "recording:" + std::to_string(id));
  }
  http::Response res;
  res.status = range.kind == ByteRange::Kind::kPartial ? 206 : 200;
  res.file = std::move(body);
  res.with_header("Content-Type", media_type_for(file->filename().string()));
  res.with_header("Accept-Ranges", "bytes");
  if (range.kind == ByteRange::Kind::kPartial)
    res.with_header("Content-Range", content_range(range, size));
  std::string ext = file->extension().string();
  if (ext.find_first_not_of(".abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") !=
      std::string::npos) {
    ext.clear();  // keep the header's quoted filename plain
  }
  const bool inline_view = call.req.query_param("inline") == "1";
  res.with_header("Content-Disposition", std::string(inline_view ? "inline" : "attachment") +
                                             "; filename=\"recording-" + std::to_string(id) +
                                             ext + "\"");
  res.with_header("Cache-Control", "private, no-store");
  res.with_header("X-Content-Type-Options", "nosniff");
  return res;
}

}  // namespace

MaybeResponse handle_recordings(ApiContext& ctx, const Call& call) {
  const auto& parts = call.parts;
  if (parts.empty() || parts[0] != "recordings") return std::nullopt;
  bool read = call.method() == "GET" || call.method() == "HEAD";
  if (parts.size() == 1 && call.method() == "GET") {
    call.require_staff();
    return list(ctx, call);
  }
  if (parts.size() == 3 && parts[2] == "download" && read) {
    call.require_staff();
    return download(ctx, call, path_id(parts[1]));
  }
  return std::nullopt;
}

}  // namespace parlor::app
