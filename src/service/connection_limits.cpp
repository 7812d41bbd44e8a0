#include "service/connection_limits.hpp"

namespace parlor::service {

namespace {
void release(std::unordered_map<std::string, uint32_t>& counts, const std::string& key) {
  auto it = counts.find(key);
  if (it == counts.end()) return;
  if (--it->second == 0) counts.erase(it);  // no entries left behind for departed clients
}
}  // namespace

class ConnectionLimiter::Lease {
 public:
  Lease(std::shared_ptr<State> state, std::string ip, std::string room)
      : state_(std::move(state)), ip_(std::move(ip)), room_(std::move(room)) {}
  ~Lease() {
    std::lock_guard lock(state_->mutex);
    release(state_->by_ip, ip_);
    release(state_->by_room, room_);
    --state_->total;
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

 private:
  std::shared_ptr<State> state_;
  std::string ip_, room_;
};

ConnectionLimiter::ConnectionLimiter(uint32_t per_ip, uint32_t per_room)
    : per_ip_(per_ip), per_room_(per_room) {}

std::optional<ConnectionLimiter::Refusal> ConnectionLimiter::refusal(
    const State& s, const std::string& ip, const std::string& room) const {
  if (auto it = s.by_ip.find(ip); it != s.by_ip.end() && it->second >= per_ip_) {
    return Refusal{429, "too many connections from this address"};
  }
  if (auto it = s.by_room.find(room); it != s.by_room.end() && it->second >= per_room_) {
    return Refusal{403, "room has too many connections"};
  }
  return std::nullopt;
}

ConnectionLimiter::Grant ConnectionLimiter::acquire(const std::string& ip,
                                                    const std::string& room) {
  std::lock_guard lock(state_->mutex);
  if (auto r = refusal(*state_, ip, room)) return {nullptr, std::move(r)};
  ++state_->by_ip[ip];
  ++state_->by_room[room];
  ++state_->total;
  return {std::make_shared<Lease>(state_, ip, room), std::nullopt};
}

std::optional<ConnectionLimiter::Refusal> ConnectionLimiter::check(const std::string& ip,
                                                                   const std::string& room) const {
  std::lock_guard lock(state_->mutex);
  return refusal(*state_, ip, room);
}

uint32_t ConnectionLimiter::open_from(const std::string& ip) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->by_ip.find(ip);
  return it == state_->by_ip.end() ? 0 : it->second;
}

uint32_t ConnectionLimiter::open_to(const std::string& room) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->by_room.find(room);
  return it == state_->by_room.end() ? 0 : it->second;
}

uint64_t ConnectionLimiter::open_total() const {
  std::lock_guard lock(state_->mutex);
  return state_->total;
}

}  // namespace parlor::service
