#pragma once
// The visitation app's SQL store on SOCI: SQLite by default (one file in the data directory),
// PostgreSQL when given a postgres:// URL. Versioned migrations run at open.
//
// Threading: one Database per thread (a SOCI session is not thread-safe). The app serves HTTP
// from a single thread, so it holds one. Several app processes may share one PostgreSQL
// database (docs/operations.md): migrations take turns, and AdvisoryLock lets one of them do a
// job.
#include <soci/soci.h>

#include <memory>
#include <string>

namespace parlor::app {

// pg_advisory_lock keys (one bigint namespace per database): "parlor" in ASCII, then a number
// per use. Another program using the same numbers on the same database would share the locks.
inline constexpr long long kMigrationLockKey = 0x7061726c6f720001LL;
inline constexpr long long kVisitJobsLockKey = 0x7061726c6f720002LL;
inline constexpr long long kManifestLockKey = 0x7061726c6f720003LL;  // appends to the one chain

class Database {
 public:
  enum class Kind { kSqlite, kPostgres };

  // `url`: "sqlite:///path/to/file.db", a bare file path, ":memory:", or
  // "postgresql://user@host:port/db". Throws parlor::BadInput if it cannot connect.
  explicit Database(const std::string& url);

  soci::session& sql() { return sql_; }
  Kind kind() const { return kind_; }
  int schema_version();

  // Runs a prepared statement once; returns the rows it changed (0 for an upsert whose
  // DO NOTHING / DO UPDATE ... WHERE left the row alone).
  long long execute(soci::statement& st);

  // A PostgreSQL session-level advisory lock (pg_advisory_lock / pg_try_advisory_lock), held
  // while this object lives, so that one of several app instances on the database does a piece
  // of work. On SQLite the database belongs to one process: always held. Released by the
  // destructor, or by PostgreSQL when the connection drops (a crashed instance frees it).
  class AdvisoryLock {
   public:
    AdvisoryLock(Database& db, long long key, bool wait);
    ~AdvisoryLock();
    AdvisoryLock(const AdvisoryLock&) = delete;
    AdvisoryLock& operator=(const AdvisoryLock&) = delete;
    bool held() const { return held_; }

   private:
    Database& db_;
    long long key_;
    bool held_ = false;
  };

  // Runs `fn` inside a transaction; rolls back if it throws. Nested calls join the outer
  // transaction (SQL has no nested BEGIN), so helpers can be composed.
  template <typename Fn>
  auto transaction(Fn&& fn) {
    if (depth_ > 0) {
      Depth d(depth_);
      return fn();
    }
    Depth d(depth_);
    soci::transaction tx(sql_);
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      tx.commit();
    } else {
      auto result = fn();
      tx.commit();
      return result;
    }
  }

 private:
  void migrate();

  struct Depth {
    int& d;
    explicit Depth(int& x) : d(x) { ++d; }
    ~Depth() { --d; }
  };

  soci::session sql_;
  Kind kind_;
  int depth_ = 0;
};

}  // namespace parlor::app
