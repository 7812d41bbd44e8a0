#include "app/store/database.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <iostream>
#include <optional>
#include <vector>

#include "common/encoding.hpp"
#include "common/errors.hpp"
#include "common/http/http_types.hpp"

namespace parlor::app {
namespace {

// Migrations are append-only. `@ID@` becomes the dialect's auto-increment primary key.
const std::vector<std::string> kMigrations = {
    R"(CREATE TABLE residents (
         id @ID@, name TEXT NOT NULL, unit TEXT NOT NULL DEFAULT '',
         status TEXT NOT NULL DEFAULT 'active', created_at BIGINT NOT NULL);
       CREATE TABLE visitors (
         id @ID@, name TEXT NOT NULL, email TEXT NOT NULL, phone TEXT NOT NULL DEFAULT '',
         relationship TEXT NOT NULL DEFAULT '', created_at BIGINT NOT NULL);
       CREATE TABLE users (
         id @ID@, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,
         password_hash TEXT NOT NULL, resident_id BIGINT, visitor_id BIGINT,
         created_at BIGINT NOT NULL);
       CREATE TABLE sessions (
         token TEXT PRIMARY KEY, user_id BIGINT NOT NULL, csrf TEXT NOT NULL,
         expires_at BIGINT NOT NULL);
       CREATE TABLE approvals (
         id @ID@, visitor_id BIGINT NOT NULL, resident_id BIGINT NOT NULL,
         status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', decided_by TEXT NOT NULL DEFAULT '',
         decided_at BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,
         UNIQUE (visitor_id, resident_id));
       CREATE TABLE visits (
         id @ID@, resident_id BIGINT NOT NULL, start_at BIGINT NOT NULL,
         duration_minutes INTEGER NOT NULL, privileged INTEGER NOT NULL DEFAULT 0,
         status TEXT NOT NULL, room TEXT NOT NULL, ended_reason TEXT NOT NULL DEFAULT '',
         warned INTEGER NOT NULL DEFAULT 0, created_by BIGINT NOT NULL DEFAULT 0,
         created_at BIGINT NOT NULL);
       CREATE TABLE visit_visitors (
         visit_id BIGINT NOT NULL, visitor_id BIGINT NOT NULL, PRIMARY KEY (visit_id, visitor_id));
       CREATE TABLE call_events (
         id @ID@, visit_id BIGINT NOT NULL, type TEXT NOT NULL, identity TEXT NOT NULL DEFAULT '',
         at BIGINT NOT NULL);
       CREATE TABLE webhook_events (event_id TEXT PRIMARY KEY, received_at BIGINT NOT NULL);
       CREATE TABLE recordings (
         id @ID@, visit_id BIGINT NOT NULL, egress_id TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
         location TEXT NOT NULL DEFAULT '', size_bytes BIGINT NOT NULL DEFAULT 0,
         duration_ms BIGINT NOT NULL DEFAULT 0, sha256 TEXT NOT NULL DEFAULT '',
         started_at BIGINT NOT NULL DEFAULT 0, ended_at BIGINT NOT NULL DEFAULT 0);
       CREATE TABLE audit_log (
         id @ID@, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
         at BIGINT NOT NULL, details TEXT NOT NULL DEFAULT '');
       CREATE TABLE visit_rules (
         id INTEGER PRIMARY KEY, bookable_start_hour INTEGER NOT NULL,
         bookable_end_hour INTEGER NOT NULL, min_notice_minutes INTEGER NOT NULL,
         max_advance_days INTEGER NOT NULL, max_duration_minutes INTEGER NOT NULL,
         max_visits_per_resident_per_week INTEGER NOT NULL, join_window_minutes INTEGER NOT NULL);
       INSERT INTO visit_rules VALUES (1, 8, 20, 0, 14, 60, 7, 10);)",
    // 2: several app instances on one database (docs/operations.md). Whether a visit's room was
    // opened, when the room check next runs, and sign-in attempts are shared, not per process.
    R"(ALTER TABLE visits ADD COLUMN room_opened INTEGER NOT NULL DEFAULT 0;
       CREATE TABLE job_state (name TEXT PRIMARY KEY, next_at_ms BIGINT NOT NULL);
       CREATE TABLE login_attempts (
         account TEXT NOT NULL, minute BIGINT NOT NULL, attempts INTEGER NOT NULL,
         PRIMARY KEY (account, minute));
       CREATE TABLE app_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);)",
    // 3: recording (docs/recording.md, "In the app"). The facility's recording policy; one
    // egress per visit, decided by the visit_egress row's primary key (several instances may
    // see the visit go live); per recording whether its file was hashed (0 pending, 1 done,
    // 2 not a local file) and when retention deleted it; the tamper-evident manifest, one hash
    // chain over every recording ('recorded') and every deletion ('deleted').
    R"(ALTER TABLE visit_rules ADD COLUMN record_visits INTEGER NOT NULL DEFAULT 1;
       ALTER TABLE visit_rules ADD COLUMN recording_retention_days INTEGER NOT NULL DEFAULT 90;
       ALTER TABLE recordings ADD COLUMN hashed INTEGER NOT NULL DEFAULT 0;
       ALTER TABLE recordings ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0;
       CREATE TABLE visit_egress (
         visit_id BIGINT PRIMARY KEY, state TEXT NOT NULL, egress_id TEXT NOT NULL DEFAULT '',
         attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
         updated_at BIGINT NOT NULL);
       CREATE TABLE recording_manifest (
         seq BIGINT PRIMARY KEY, kind TEXT NOT NULL, recording_id BIGINT NOT NULL,
         visit_id BIGINT NOT NULL, egress_id TEXT NOT NULL, location TEXT NOT NULL,
         sha256 TEXT NOT NULL, size_bytes BIGINT NOT NULL, at BIGINT NOT NULL,
         prev_entry_hash TEXT NOT NULL, entry_hash TEXT NOT NULL);)",
};

std::vector<std::string> split_statements(const std::string& script) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < script.size()) {
    auto end = script.find(';', start);
    std::string stmt = script.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (stmt.find_first_not_of(" \n\t\r") != std::string::npos) out.push_back(stmt);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// postgresql://user:password@host:port/dbname?sslmode=... → libpq "key=value" form, which
// SOCI's backend passes through unchanged (it mangles URIs).
std::string pg_connection_string(const std::string& url) {
  std::string rest = url.substr(url.find("://") + 3);
  std::string query;
  if (auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest.resize(q);
  }
  std::string userinfo, hostpart = rest, db;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    userinfo = rest.substr(0, at);
    hostpart = rest.substr(at + 1);
  }
  if (auto slash = hostpart.find('/'); slash != std::string::npos) {
    db = hostpart.substr(slash + 1);
    hostpart.resize(slash);
  }
  auto quote = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\\' || c == '\'') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string out;
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) out += std::string(out.empty() ? "" : " ") + k + "=" + quote(v);
  };
  std::string user = userinfo, password;
  if (auto colon = userinfo.find(':'); colon != std::string::npos) {
    user = userinfo.substr(0, colon);
    password = userinfo.substr(colon + 1);
  }
  std::string host = hostpart, port;
  if (auto colon = hostpart.rfind(':'); colon != std::string::npos && hostpart.find(']') == std::string::npos) {
    host = hostpart.substr(0, colon);
    port = hostpart.substr(colon + 1);
  }
  add("host", host);
  add("port", port);
  add("user", common::url_decode(user).value_or(user));
  add("password", common::url_decode(password).value_or(password));
  add("dbname", db);
  for (auto& [k, v] : http::parse_query(query)) add(k.c_str(), v);
  return out;
}

}  // namespace

Database::Database(const std::string& url) {
  try {
    if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0) {
      kind_ = Kind::kPostgres;
      sql_.open(soci::postgresql, pg_connection_string(url));
    } else {
      kind_ = Kind::kSqlite;
      std::string path = url.rfind("sqlite://", 0) == 0 ? url.substr(9) : url;
      sql_.open(soci::sqlite3, "db=" + path + " timeout=5");
      sql_ << "PRAGMA foreign_keys = ON";
      sql_ << "PRAGMA journal_mode = WAL";
    }
  } catch (const soci::soci_error& e) {
    throw BadInput(std::string("database: cannot open: ") + e.what());
  }
  migrate();
}

int Database::schema_version() {
  int v = 0;
  soci::indicator ind;
  sql_ << "SELECT MAX(version) FROM schema_migrations", soci::into(v, ind);
  return ind == soci::i_ok ? v : 0;
}

void Database::migrate() {
  // Several instances starting together on one PostgreSQL take turns; the others then find the
  // schema current. (SQLite serialises writers itself.)
  std::optional<AdvisoryLock> lock;
  if (kind_ == Kind::kPostgres) lock.emplace(*this, kMigrationLockKey, /*wait=*/true);
  sql_ << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)";
  int current = schema_version();
  const std::string id = kind_ == Kind::kPostgres ? "BIGSERIAL PRIMARY KEY"
                                                  : "INTEGER PRIMARY KEY AUTOINCREMENT";
  for (size_t i = static_cast<size_t>(current); i < kMigrations.size(); ++i) {
    std::string script = kMigrations[i];
    for (auto pos = script.find("@ID@"); pos != std::string::npos; pos = script.find("@ID@")) {
      script.replace(pos, 4, id);
    }
    transaction([&] {
      for (const auto& stmt : split_statements(script)) sql_ << stmt;
      int version = static_cast<int>(i + 1);
      long long now = time(nullptr);
      sql_ << "INSERT INTO schema_migrations (version, applied_at) VALUES (:v, :t)",
          soci::use(version), soci::use(now);
    });
  }
}

long long Database::execute(soci::statement& st) {
  st.execute(true);
  return st.get_affected_rows();
}

Database::AdvisoryLock::AdvisoryLock(Database& db, long long key, bool wait) : db_(db), key_(key) {
  if (db_.kind_ != Kind::kPostgres) {
    held_ = true;  // one process owns a SQLite file's jobs; nothing to take
    return;
  }
  if (wait) {
    db_.sql_ << "SELECT pg_advisory_lock(:k)", soci::use(key_);
    held_ = true;
  } else {
    int got = 0;
    db_.sql_ << "SELECT CASE WHEN pg_try_advisory_lock(:k) THEN 1 ELSE 0 END", soci::use(key_),
        soci::into(got);
    held_ = got == 1;
  }
}

Database::AdvisoryLock::~AdvisoryLock() {
  if (!held_ || db_.kind_ != Kind::kPostgres) return;
  try {
    int released = 0;
    db_.sql_ << "SELECT CASE WHEN pg_advisory_unlock(:k) THEN 1 ELSE 0 END", soci::use(key_),
        soci::into(released);
  } catch (const std::exception& e) {
    // A broken connection has released the lock with the session.
    std::cerr << "parlor app: releasing database lock " << key_ << ": " << e.what() << "\n";
  }
}

}  // namespace parlor::app
