#include <gtest/gtest.h>

#include <cstdlib>

#include "app/auth/passwords.hpp"
#include "app/store/database.hpp"
#include "common/errors.hpp"

namespace parlor::app {
namespace {

TEST(Passwords, Argon2idHashesVerifyAndAreSalted) {
  auto a = hash_password("correct horse");
  auto b = hash_password("correct horse");
  EXPECT_EQ(a.rfind("$argon2id$", 0), 0u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(verify_password(a, "correct horse"));
  EXPECT_FALSE(verify_password(a, "wrong horse"));
  EXPECT_FALSE(verify_password("garbage", "correct horse"));
  EXPECT_NE(random_token(), random_token());
  EXPECT_EQ(random_token().size(), 43u);
}

TEST(Database, MigratesOnceAndTransactionsRollBack) {
  Database db(":memory:");
  EXPECT_EQ(db.schema_version(), 3);
  long long now = 1;
  std::string name = "O'Brien; DROP TABLE residents;--";
  EXPECT_THROW(db.transaction([&] {
    db.sql() << "INSERT INTO residents (name, unit, created_at) VALUES (:n, '', :t)",
        soci::use(name), soci::use(now);
    throw BadInput("abort");
  }),
               BadInput);
  int count = -1;
  db.sql() << "SELECT COUNT(*) FROM residents", soci::into(count);
  EXPECT_EQ(count, 0);
  db.transaction([&] {
    db.transaction([&] {  // nested calls join the outer transaction
      db.sql() << "INSERT INTO residents (name, unit, created_at) VALUES (:n, '', :t)",
          soci::use(name), soci::use(now);
    });
  });
  std::string back;
  db.sql() << "SELECT name FROM residents", soci::into(back);
  EXPECT_EQ(back, name);
}

TEST(Database, ExecuteCountsChangedRowsAndUpsertsClaimOnce) {
  Database db(":memory:");
  long long now = 5;
  std::string id = "EV_1";
  auto claim = [&] {
    soci::statement st = (db.sql().prepare << "INSERT INTO webhook_events (event_id, received_at) "
                                              "VALUES (:i, :t) ON CONFLICT (event_id) DO NOTHING",
                          soci::use(id), soci::use(now));
    return db.execute(st);
  };
  EXPECT_EQ(claim(), 1);
  EXPECT_EQ(claim(), 0);  // a duplicate changes nothing and is not an error
  soci::statement none = (db.sql().prepare << "UPDATE visits SET warned = 1 WHERE id = 42");
  EXPECT_EQ(db.execute(none), 0);
}

TEST(Database, AdvisoryLockIsAlwaysHeldOnSqlite) {
  Database db(":memory:");
  Database::AdvisoryLock outer(db, kVisitJobsLockKey, /*wait=*/false);
  Database::AdvisoryLock inner(db, kVisitJobsLockKey, /*wait=*/false);
  EXPECT_TRUE(outer.held());
  EXPECT_TRUE(inner.held());
}

// With PARLOR_TEST_PG_URL (scripts/with-services.sh): two connections are two app instances.
TEST(Database, AdvisoryLockOnPostgresIsHeldByOneConnectionAtATime) {
  const char* url = getenv("PARLOR_TEST_PG_URL");
  if (!url) GTEST_SKIP() << "PARLOR_TEST_PG_URL is not set";
  Database a(url), b(url);
  EXPECT_EQ(a.schema_version(), b.schema_version());
  {
    Database::AdvisoryLock first(a, kVisitJobsLockKey, /*wait=*/false);
    ASSERT_TRUE(first.held());
    Database::AdvisoryLock second(b, kVisitJobsLockKey, /*wait=*/false);
    EXPECT_FALSE(second.held());
    Database::AdvisoryLock other_key(b, kMigrationLockKey, /*wait=*/false);
    EXPECT_TRUE(other_key.held());
  }
  Database::AdvisoryLock after_release(b, kVisitJobsLockKey, /*wait=*/false);
  EXPECT_TRUE(after_release.held());
}

TEST(Database, BadUrlIsAClearError) {
  EXPECT_THROW(Database("/nonexistent-dir/x/y.db"), BadInput);
  EXPECT_THROW(Database("postgresql://nobody@127.0.0.1:1/none"), BadInput);
}

}  // namespace
}  // namespace parlor::app
