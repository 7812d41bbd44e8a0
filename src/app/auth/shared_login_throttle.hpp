#pragma once
// Sign-in throttling shared by every app instance on one database (docs/operations.md): the
// same limits as LoginThrottle (per account and over all accounts, one-minute windows, a refused
// attempt not counted against the overall limit), counted in the login_attempts table so an
// attacker gains nothing by spreading attempts over instances.
//
// Rows are keyed by a keyed hash of the account (BLAKE2b with a random key made once per
// database and kept in app_secrets), so the table holds no e-mail addresses, and by the minute.
// A new account row is only written for an attempt the overall limit allowed, so one window
// holds at most overall_per_minute + 1 rows; windows before the current one are deleted, so
// the table never holds more than two windows' worth.
//
// Each attempt is one transaction: the overall row is bumped first (PostgreSQL locks it, so
// instances take turns), then the account row. Portable SQL (upserts), so it runs on SQLite too
// (the unit tests; the app itself uses LoginThrottle there). Not thread-safe: one Database.
#include <cstdint>
#include <string>
#include <string_view>

#include "app/auth/login_throttle.hpp"
#include "app/store/database.hpp"

namespace parlor::app {

class SharedLoginThrottle {
 public:
  // Reads (or creates) the database's hash key. Throws soci::soci_error if the store fails.
  SharedLoginThrottle(LoginThrottleSettings settings, Database& db);

  // As LoginThrottle::attempt: 0 = go ahead, else seconds until the next window.
  int64_t attempt(std::string_view account, int64_t now);

  // The stored row key of `account` (hex of a 16-byte keyed hash); exposed for tests.
  std::string account_key(std::string_view account) const;

 private:
  // Adds one attempt to (key, minute) unless it already has `limit`; whether it was added.
  bool bump(const std::string& key, long long minute, int limit);
  void unbump(const std::string& key, long long minute);

  LoginThrottleSettings settings_;
  Database& db_;
  std::string hash_key_;        // raw key bytes
  long long swept_minute_ = 0;  // the last window this instance deleted older rows for
};

}  // namespace parlor::app
