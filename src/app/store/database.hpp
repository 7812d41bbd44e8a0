#pragma once
// The visitation app's SQL store on SOCI: SQLite by default (one file in the data directory),
// PostgreSQL when given a postgres:// URL. Versioned migrations run at open.
//
// Threading: one Database per thread (a SOCI session is not thread-safe). The app serves HTTP
// from a single thread, so it holds one.
#include <soci/soci.h>

#include <memory>
#include <string>

namespace parlor::app {

class Database {
 public:
  enum class Kind { kSqlite, kPostgres };

  // `url`: "sqlite:///path/to/file.db", a bare file path, ":memory:", or
  // "postgresql://user@host:port/db". Throws parlor::BadInput if it cannot connect.
  explicit Database(const std::string& url);

  soci::session& sql() { return sql_; }
  Kind kind() const { return kind_; }
  int schema_version();

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
