#include "rtc/ice/ice_lite_agent.hpp"

#include <openssl/rand.h>

#include <algorithm>

namespace parlor::rtc {
namespace {

constexpr std::string_view kIceChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr size_t kUfragLength = 8;   // RFC 8839: at least 4 characters
constexpr size_t kPwdLength = 24;    // RFC 8839: at least 22 characters
// RFC 8445 §5.1.2.1 with type preference 126 (host), local preference 65535, component 1.
constexpr uint32_t kHostPriority = (126u << 24) | (65535u << 8) | (256u - 1);
constexpr uint32_t kHostTcpPriority = (126u << 24) | (32767u << 8) | (256u - 1);

std::string random_chars(size_t n) {
  std::string out;
  uint8_t buf[64];
  RAND_bytes(buf, static_cast<int>(n));
  for (size_t i = 0; i < n; ++i) out += kIceChars[buf[i] % kIceChars.size()];  // 64 divides 256
  return out;
}

size_t error_response(const StunMessageView& req, uint16_t code, std::string_view reason,
                      std::span<uint8_t> out) {
  StunMessageBuilder b(out, kStunBindingMethod, StunClass::kError, req.transaction_id());
  // A response missing an attribute that did not fit is never sent (found by fuzz_ice).
  bool complete = b.add_error_code(code, reason) && b.add_fingerprint();
  return complete && b.ok() ? b.size() : 0;
}

}  // namespace

IceCredentials generate_ice_credentials() { return {random_chars(kUfragLength), random_chars(kPwdLength)}; }

std::string_view stun_local_ufrag(std::span<const uint8_t> packet) {
  auto m = StunMessageView::parse(packet);
  if (!m || m->method() != kStunBindingMethod || m->message_class() != StunClass::kRequest) return {};
  auto user = m->username();
  auto colon = user.find(':');
  return colon == std::string_view::npos ? std::string_view{} : user.substr(0, colon);
}

std::string host_candidate(uint32_t foundation, std::string_view transport, std::string_view address,
                           uint16_t port, bool tcp_passive) {
  std::string c = "candidate:" + std::to_string(foundation) + " 1 " + std::string(transport) + " " +
                  std::to_string(tcp_passive ? kHostTcpPriority : kHostPriority) + " " +
                  std::string(address) + " " + std::to_string(port) + " typ host";
  if (tcp_passive) c += " tcptype passive";
  return c;
}

IceLiteAgent::IceLiteAgent(IceCredentials local, Options options)
    : local_(std::move(local)), options_(options) {}

void IceLiteAgent::restart(IceCredentials local) {
  local_ = std::move(local);
  remote_ = {};
  pairs_.clear();
  selected_.reset();
}

size_t IceLiteAgent::handle(std::span<const uint8_t> packet, const StunAddress& from,
                            Clock::time_point now, std::span<uint8_t> out) {
  auto m = StunMessageView::parse(packet);
  if (!m) {
    ++counters_.malformed;
    return 0;
  }
  if (m->method() != kStunBindingMethod || m->message_class() != StunClass::kRequest) return 0;
  ++counters_.requests;
  // RFC 8445 §7.3: ICE requests carry FINGERPRINT; a wrong one means "not STUN for us": drop.
  if (m->has_fingerprint() && !m->check_fingerprint()) {
    ++counters_.malformed;
    return 0;
  }
  auto user = m->username();
  if (user.empty() || !m->has_integrity()) {
    ++counters_.malformed;
    return error_response(*m, 400, "Bad Request", out);  // RFC 8489 §9.1.3
  }
  auto colon = user.find(':');
  bool user_ok = colon != std::string_view::npos && user.substr(0, colon) == local_.ufrag &&
                 (remote_.ufrag.empty() || user.substr(colon + 1) == remote_.ufrag);
  if (!user_ok) {
    ++counters_.unknown_user;
    return error_response(*m, 401, "Unauthorized", out);
  }
  if (!m->check_integrity(local_.pwd)) {
    ++counters_.bad_integrity;
    return error_response(*m, 401, "Unauthorized", out);
  }

  // A valid check: remember the pair, follow nomination, refresh consent.
  auto it = std::find_if(pairs_.begin(), pairs_.end(), [&](const Pair& p) { return p.remote == from; });
  if (it == pairs_.end()) {
    if (pairs_.size() >= options_.max_pairs) pairs_.erase(pairs_.begin());
    pairs_.push_back({from, now});
  } else {
    it->last_check = now;
  }
  if (m->use_candidate()) selected_ = from;
  if (selected_ && *selected_ == from) selected_last_check_ = now;
  last_valid_check_ = now;

  StunMessageBuilder b(out, kStunBindingMethod, StunClass::kSuccess, m->transaction_id());
  bool complete = b.add_xor_mapped_address(from) && b.add_integrity(local_.pwd) && b.add_fingerprint();
  return complete && b.ok() ? b.size() : 0;
}

IceLiteAgent::State IceLiteAgent::state(Clock::time_point now) const {
  if (selected_) {
    return now - selected_last_check_ > options_.consent_timeout ? State::kDisconnected
                                                                 : State::kConnected;
  }
  return pairs_.empty() ? State::kNew : State::kChecking;
}

bool IceLiteAgent::is_validated(const StunAddress& from) const {
  return std::any_of(pairs_.begin(), pairs_.end(), [&](const Pair& p) { return p.remote == from; });
}

}  // namespace parlor::rtc
