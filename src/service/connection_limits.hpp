#pragma once
// Open signaling WebSockets per client address and per room (limit.max_ws_connections_per_ip,
// limit.max_ws_connections_per_room), checked at the upgrade before the 101. A granted slot is
// a lease: an object whose destruction gives the slot back exactly once, on whatever thread the
// connection ends (the WebSocket lives on a media worker; the limiter is asked on control
// threads).
//
// Threading: every method and the leases' destructors are thread-safe (one mutex). Lifetime:
// leases keep the shared state alive, so they may outlive the limiter.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace parlor::service {

class ConnectionLimiter {
 public:
  struct Refusal {
    int status = 429;
    std::string message;
  };
  struct Grant {
    std::shared_ptr<void> lease;  // hold while the connection is open; reset to release
    std::optional<Refusal> refusal;
  };

  ConnectionLimiter(uint32_t per_ip, uint32_t per_room);

  // A slot for one connection from `ip` to `room`, or why not.
  Grant acquire(const std::string& ip, const std::string& room);
  // Would acquire() refuse now? (for /rtc/validate, which takes no slot)
  std::optional<Refusal> check(const std::string& ip, const std::string& room) const;

  uint32_t open_from(const std::string& ip) const;
  uint32_t open_to(const std::string& room) const;
  uint64_t open_total() const;

 private:
  struct State {
    mutable std::mutex mutex;
    std::unordered_map<std::string, uint32_t> by_ip, by_room;
    uint64_t total = 0;
  };
  class Lease;
  std::optional<Refusal> refusal(const State& s, const std::string& ip,
                                 const std::string& room) const;

  uint32_t per_ip_;
  uint32_t per_room_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace parlor::service
