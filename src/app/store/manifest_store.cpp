#include "app/store/manifest_store.hpp"

#include <optional>

namespace parlor::app {

namespace {

constexpr const char* kColumns =
    "seq, kind, recording_id, visit_id, egress_id, location, sha256, size_bytes, at, "
    "prev_entry_hash, entry_hash";

// An integer column whatever width the backend reports (as api_support's as_int).
long long number(const soci::row& row, std::size_t i) {
  if (row.get_indicator(i) == soci::i_null) return 0;
  switch (row.get_properties(i).get_data_type()) {
    case soci::dt_integer: return row.get<int>(i);
    case soci::dt_long_long: return row.get<long long>(i);
    case soci::dt_unsigned_long_long: return static_cast<long long>(row.get<unsigned long long>(i));
    case soci::dt_string: return std::stoll(row.get<std::string>(i));
    default: return static_cast<long long>(row.get<double>(i));
  }
}

ManifestEntry from_row(const soci::row& row) {
  ManifestEntry e;
  e.seq = number(row, 0);
  e.kind = row.get<std::string>(1);
  e.recording_id = number(row, 2);
  e.visit_id = number(row, 3);
  e.egress_id = row.get<std::string>(4);
  e.location = row.get<std::string>(5);
  e.sha256 = row.get<std::string>(6);
  e.size_bytes = number(row, 7);
  e.at = number(row, 8);
  e.prev_entry_hash = row.get<std::string>(9);
  e.entry_hash = row.get<std::string>(10);
  return e;
}

}  // namespace

std::vector<ManifestEntry> load_manifest(Database& db) {
  std::vector<ManifestEntry> out;
  soci::rowset<soci::row> rs =
      db.sql().prepare << std::string("SELECT ") + kColumns + " FROM recording_manifest ORDER BY seq";
  for (const auto& row : rs) out.push_back(from_row(row));
  return out;
}

ManifestEntry append_manifest(Database& db, ManifestEntry e) {
  return db.transaction([&] {
    if (db.kind() == Database::Kind::kPostgres) {
      // Held until this transaction ends: the next appender reads our entry as its last.
      long long key = kManifestLockKey;
      db.sql() << "SELECT pg_advisory_xact_lock(:k)", soci::use(key);
    }
    std::optional<ManifestEntry> last;
    {
      soci::rowset<soci::row> rs = db.sql().prepare << std::string("SELECT ") + kColumns +
                                                           " FROM recording_manifest ORDER BY seq "
                                                           "DESC LIMIT 1";
      for (const auto& row : rs) last = from_row(row);
    }
    ManifestEntry c = chain_after(std::move(e), last ? &*last : nullptr);
    db.sql() << "INSERT INTO recording_manifest (seq, kind, recording_id, visit_id, egress_id, "
                "location, sha256, size_bytes, at, prev_entry_hash, entry_hash) VALUES (:a, :b, "
                ":c, :d, :e, :f, :g, :h, :i, :j, :k)",
        soci::use(c.seq), soci::use(c.kind), soci::use(c.recording_id), soci::use(c.visit_id),
        soci::use(c.egress_id), soci::use(c.location), soci::use(c.sha256),
        soci::use(c.size_bytes), soci::use(c.at), soci::use(c.prev_entry_hash),
        soci::use(c.entry_hash);
    return c;
  });
}

}  // namespace parlor::app
