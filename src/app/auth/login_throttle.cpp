#include "app/auth/login_throttle.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "common/errors.hpp"

namespace parlor::app {

LoginThrottle::LoginThrottle(LoginThrottleSettings settings) : settings_(settings) {
  if (sodium_init() < 0) throw InternalError("libsodium failed to initialise");
  size_t sets = (std::max<size_t>(settings_.table_slots, kWays) + kWays - 1) / kWays;
  slots_.resize(sets * kWays);
  static_assert(sizeof(key_) == crypto_shorthash_KEYBYTES);
  crypto_shorthash_keygen(key_);
}

uint64_t LoginThrottle::hash(std::string_view account) const {
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(account.data()), account.size(),
                   key_);
  uint64_t h = 0;
  std::memcpy(&h, out, sizeof(h));
  return h == 0 ? 1 : h;  // 0 marks an empty slot
}

int64_t LoginThrottle::attempt(std::string_view account, int64_t now) {
  int64_t minute = now / 60;
  int64_t wait = 60 - now % 60;  // until the next window opens
  uint64_t key = hash(account);
  size_t set = static_cast<size_t>(key % (slots_.size() / kWays)) * kWays;
  Slot* slot = nullptr;
  Slot* victim = &slots_[set];
  for (size_t i = set; i < set + kWays; ++i) {
    if (slots_[i].key == key) {
      slot = &slots_[i];
      break;
    }
    if (slots_[i].used < victim->used) victim = &slots_[i];
  }
  if (!slot) {
    slot = victim;  // an empty slot has used == 0, so it is taken first
    *slot = Slot{key, minute, 0, 0};
  }
  slot->used = ++tick_;
  if (slot->minute != minute) {
    slot->minute = minute;
    slot->count = 0;
  }
  if (slot->count >= settings_.per_account_per_minute) return wait;
  if (overall_minute_ != minute) {
    overall_minute_ = minute;
    overall_count_ = 0;
  }
  if (overall_count_ >= settings_.overall_per_minute) return wait;
  ++overall_count_;
  ++slot->count;
  return 0;
}

}  // namespace parlor::app
