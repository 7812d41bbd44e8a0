// Recordings: GET /recordings?visitId= (the list) and GET /recordings/{id}/download (the file,
// with single-range HTTP Range support so browsers can seek). Files are only ever read from
// inside the recordings directory: the stored location is resolved, symlinks included, and
// anything that lands outside is treated as missing. The file is streamed from disk by the HTTP
// server (http::FileBody) in fixed-size chunks, so a download never holds the file in memory.
#include <filesystem>

#include "app/api/byte_range.hpp"
#include "app/api/handlers.hpp"

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
          {"endedAt", iso_time(as_int(row, 8))}};
}

http::Response list(ApiContext& ctx, const Call& call) {
  json out = json::array();
  std::string visit = call.req.query_param("visitId");
  std::string q =
      "SELECT id, visit_id, egress_id, status, size_bytes, duration_ms, sha256, started_at, "
      "ended_at FROM recordings";
  if (!visit.empty()) q += " WHERE visit_id = " + std::to_string(path_id(visit));
  soci::rowset<soci::row> rs = ctx.db.sql().prepare << q + " ORDER BY id";
  for (const auto& row : rs) out.push_back(recording_json(row));
  return json_reply(200, {{"recordings", out}});
}

// The recording's file inside `root`, or nullopt when it is missing or would be outside.
std::optional<fs::path> resolve_inside(const std::string& root_dir, const std::string& location) {
  if (root_dir.empty() || location.empty() || location.find('\0') != std::string::npos)
    return std::nullopt;
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::absolute(root_dir, ec), ec);
  if (ec) return std::nullopt;
  fs::path file = fs::weakly_canonical(root / location, ec);  // an absolute location replaces root
  if (ec) return std::nullopt;
  fs::path rel = file.lexically_relative(root);
  if (rel.empty() || rel == "." || *rel.begin() == "..") return std::nullopt;
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  return file;
}

http::Response download(ApiContext& ctx, const Call& call, long long id) {
  std::string location;
  ctx.db.sql() << "SELECT location FROM recordings WHERE id = :id", soci::use(id),
      soci::into(location);
  if (!ctx.db.sql().got_data()) throw not_found("recording");
  auto file = resolve_inside(ctx.settings.recordings_dir, location);
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
  res.with_header("Content-Disposition",
                  "attachment; filename=\"recording-" + std::to_string(id) + ext + "\"");
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
