#pragma once
// The server side of ICE as an ICE-lite agent (RFC 8445 §2.5, §7.3): it never sends checks, it
// answers the browser's Binding requests, learns candidate pairs from them, follows the
// controlling peer's nomination (USE-CANDIDATE; a later nomination replaces an earlier one, as
// Firefox does), and tracks consent freshness (RFC 7675) on the selected pair.
//
// Sans-I/O: the caller feeds received STUN bytes with the source address and the current time,
// and sends the returned response bytes back to that address. One agent per peer connection,
// used on its media worker's thread only.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rtc/stun/stun_message.hpp"

namespace parlor::rtc {

struct IceCredentials {
  std::string ufrag;
  std::string pwd;
};

// Random credentials from the ice-char set (RFC 8839 §5.4): 8-char ufrag, 24-char password.
IceCredentials generate_ice_credentials();

// The local-ufrag half of a Binding request's USERNAME ("local:remote"), without validating
// the message otherwise; used to route a packet on a shared socket. Empty if none.
std::string_view stun_local_ufrag(std::span<const uint8_t> packet);

// An `a=candidate` value for a host candidate (RFC 8839 §5.1), e.g.
// "candidate:1 1 udp 2130706431 127.0.0.1 7882 typ host".
std::string host_candidate(uint32_t foundation, std::string_view transport, std::string_view address,
                           uint16_t port, bool tcp_passive = false);

class IceLiteAgent {
 public:
  using Clock = std::chrono::steady_clock;

  enum class State { kNew, kChecking, kConnected, kDisconnected };

  struct Options {
    std::chrono::milliseconds consent_timeout{30000};
    size_t max_pairs = 16;  // remote addresses remembered; beyond that the oldest is forgotten
  };

  struct Counters {
    uint64_t requests = 0;
    uint64_t bad_integrity = 0;
    uint64_t unknown_user = 0;
    uint64_t malformed = 0;
  };

  IceLiteAgent(IceCredentials local, Options options);

  const IceCredentials& local() const { return local_; }
  // Remote ufrag/pwd from the peer's SDP; responses need none of it for ICE-lite, but a
  // USERNAME whose remote half differs is rejected once it is known.
  void set_remote(IceCredentials remote) { remote_ = std::move(remote); }
  // ICE restart: new local credentials; pairs and nomination start over.
  void restart(IceCredentials local);

  // Handles a STUN message from `from`. Returns the length of the response written to `out`
  // (0 = nothing to send: not a request, fingerprint wrong, or `out` too small).
  size_t handle(std::span<const uint8_t> packet, const StunAddress& from, Clock::time_point now,
                std::span<uint8_t> out);

  State state(Clock::time_point now) const;
  // The nominated pair's remote address (where media and DTLS go).
  std::optional<StunAddress> selected() const { return selected_; }
  // True if `from` has passed a connectivity check: only such addresses may speak DTLS/SRTP.
  bool is_validated(const StunAddress& from) const;
  // When the last check that passed integrity arrived, on any pair (nullopt: none yet).
  std::optional<Clock::time_point> last_valid_check() const { return last_valid_check_; }
  const Counters& counters() const { return counters_; }

 private:
  struct Pair {
    StunAddress remote;
    Clock::time_point last_check;
  };

  IceCredentials local_;
  IceCredentials remote_;
  Options options_;
  std::vector<Pair> pairs_;
  std::optional<StunAddress> selected_;
  Clock::time_point selected_last_check_{};
  std::optional<Clock::time_point> last_valid_check_;
  Counters counters_;
};

}  // namespace parlor::rtc
