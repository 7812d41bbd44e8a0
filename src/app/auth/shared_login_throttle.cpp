#include "app/auth/shared_login_throttle.hpp"

#include <sodium.h>

#include "common/errors.hpp"

namespace parlor::app {

namespace {
const std::string kKeyName = "login_throttle_key";
const std::string kOverall = "*";  // the over-all-accounts row; never a hex hash
constexpr size_t kHashBytes = 16;  // 128 bits: no collisions among accounts in practice

std::string to_hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 0xf];
  }
  return out;
}
}  // namespace

SharedLoginThrottle::SharedLoginThrottle(LoginThrottleSettings settings, Database& db)
    : settings_(settings), db_(db) {
  if (sodium_init() < 0) throw InternalError("libsodium failed to initialise");
  unsigned char fresh[crypto_generichash_KEYBYTES];
  randombytes_buf(fresh, sizeof(fresh));
  std::string fresh_hex = to_hex(fresh, sizeof(fresh));
  std::string stored;
  db_.transaction([&] {
    // The first instance's key wins; the others read it.
    db_.sql() << "INSERT INTO app_secrets (name, value) VALUES (:n, :v) ON CONFLICT (name) DO "
                 "NOTHING",
        soci::use(kKeyName), soci::use(fresh_hex);
    db_.sql() << "SELECT value FROM app_secrets WHERE name = :n", soci::use(kKeyName),
        soci::into(stored);
  });
  unsigned char key[crypto_generichash_KEYBYTES];
  size_t key_len = 0;
  if (stored.size() != 2 * sizeof(key) ||
      sodium_hex2bin(key, sizeof(key), stored.data(), stored.size(), nullptr, &key_len, nullptr) !=
          0 ||
      key_len != sizeof(key)) {
    throw InternalError("app_secrets: the sign-in throttle key is malformed");
  }
  hash_key_.assign(reinterpret_cast<const char*>(key), sizeof(key));
}

std::string SharedLoginThrottle::account_key(std::string_view account) const {
  unsigned char out[kHashBytes];
  crypto_generichash(out, sizeof(out), reinterpret_cast<const unsigned char*>(account.data()),
                     account.size(), reinterpret_cast<const unsigned char*>(hash_key_.data()),
                     hash_key_.size());
  return to_hex(out, sizeof(out));
}

bool SharedLoginThrottle::bump(const std::string& key, long long minute, int limit) {
  soci::statement st =
      (db_.sql().prepare << "INSERT INTO login_attempts (account, minute, attempts) VALUES (:a, "
                            ":m, 1) ON CONFLICT (account, minute) DO UPDATE SET attempts = "
                            "login_attempts.attempts + 1 WHERE login_attempts.attempts < :l",
       soci::use(key), soci::use(minute), soci::use(limit));
  return db_.execute(st) > 0;
}

void SharedLoginThrottle::unbump(const std::string& key, long long minute) {
  db_.sql() << "UPDATE login_attempts SET attempts = attempts - 1 WHERE account = :a AND minute "
               "= :m",
      soci::use(key), soci::use(minute);
}

int64_t SharedLoginThrottle::attempt(std::string_view account, int64_t now) {
  const long long minute = now / 60;
  const int64_t wait = 60 - now % 60;  // until the next window opens
  const std::string key = account_key(account);
  if (settings_.per_account_per_minute <= 0 || settings_.overall_per_minute <= 0) return wait;
  return db_.transaction([&]() -> int64_t {
    if (swept_minute_ != minute) {
      db_.sql() << "DELETE FROM login_attempts WHERE minute < :m", soci::use(minute);
      swept_minute_ = minute;
    }
    if (!bump(kOverall, minute, settings_.overall_per_minute)) return wait;
    if (!bump(key, minute, settings_.per_account_per_minute)) {
      unbump(kOverall, minute);  // a refused attempt does not count against the overall limit
      return wait;
    }
    return 0;
  });
}

}  // namespace parlor::app
