#pragma once
// A browser's ICE connectivity check, for tests: USERNAME "server:client", PRIORITY,
// ICE-CONTROLLING, optional USE-CANDIDATE, MESSAGE-INTEGRITY with the server's password,
// FINGERPRINT.
#include <array>
#include <string>
#include <vector>

#include "rtc/stun/stun_message.hpp"

namespace parlor::rtc::test_support {

inline std::vector<uint8_t> ice_check(const std::string& username, const std::string& pwd,
                                      bool nominate, uint8_t tid_seed = 1) {
  std::array<uint8_t, 12> tid{};
  tid.fill(tid_seed);
  std::vector<uint8_t> buf(256);
  StunMessageBuilder b(buf, kStunBindingMethod, StunClass::kRequest, tid);
  b.add_string(stun_attr::kUsername, username);
  b.add_u32(stun_attr::kPriority, 1845501695);
  b.add_u64(stun_attr::kIceControlling, 42);
  if (nominate) b.add_attribute(stun_attr::kUseCandidate, {});
  b.add_integrity(pwd);
  b.add_fingerprint();
  buf.resize(b.size());
  return buf;
}

}  // namespace parlor::rtc::test_support
