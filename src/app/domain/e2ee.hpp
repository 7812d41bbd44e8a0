#pragma once
// End-to-end encryption keys of privileged visits (attorney, clergy): livekit-client's E2EE
// shared-key mode encrypts every frame in the browsers, so neither the media tier nor anyone
// recording it sees the call. The key is never stored: it is derived, the same for every
// participant of one visit and different for every visit, as
//   base64url(HMAC-SHA256(secret, "parlor-e2ee:" + visit id + ":" + room))
// from PARLOR_E2EE_SECRET, which lives outside the database (a leaked database reveals no key).
#include <string>
#include <string_view>

namespace parlor::app {

inline constexpr size_t kE2eeKeyBytes = 32;
// Secrets shorter than this are refused outside --dev (as LiveKit API secrets).
inline constexpr size_t kMinE2eeSecretLength = 32;

// base64url (no padding) of the 32-byte key. Throws parlor::BadInput for an empty secret.
std::string derive_e2ee_key(std::string_view secret, long long visit_id, std::string_view room);

// A fresh random secret (base64url of 32 random bytes), for the data directory's key file.
std::string generate_e2ee_secret();

}  // namespace parlor::app
