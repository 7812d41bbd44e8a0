#pragma once
// Sign-in throttling in fixed memory: per account and over all accounts, counted in one-minute
// windows. Accounts live in a fixed-size, set-associative table of keyed hashes (SipHash with a
// random per-process key, so nobody can aim collisions at an account); a new account takes the
// least recently used slot of its set, so memory never grows with the number of e-mails tried.
// An evicted account starts counting again; the overall limit bounds what that buys an
// attacker. Not thread-safe: the app calls it under its API lock.
#include <cstdint>
#include <string_view>
#include <vector>

namespace parlor::app {

struct LoginThrottleSettings {
  int per_account_per_minute = 10;
  int overall_per_minute = 300;
  size_t table_slots = 4096;  // rounded up to a multiple of kWays
};

class LoginThrottle {
 public:
  static constexpr size_t kWays = 8;
  explicit LoginThrottle(LoginThrottleSettings settings);

  // Counts one attempt for `account` at unix time `now`. 0 = go ahead; otherwise the number of
  // seconds until another attempt can be allowed (for Retry-After). A refused attempt is not
  // counted against the overall limit.
  int64_t attempt(std::string_view account, int64_t now);

  size_t slots() const { return slots_.size(); }

 private:
  struct Slot {
    uint64_t key = 0;  // keyed hash of the account; 0 = empty
    int64_t minute = 0;
    int count = 0;
    uint64_t used = 0;  // last-use tick, for LRU within the set
  };
  uint64_t hash(std::string_view account) const;

  LoginThrottleSettings settings_;
  std::vector<Slot> slots_;
  unsigned char key_[16];
  uint64_t tick_ = 0;
  int64_t overall_minute_ = 0;
  int overall_count_ = 0;
};

}  // namespace parlor::app
