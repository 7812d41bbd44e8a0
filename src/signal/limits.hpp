#pragma once
// Bounds on what one participant can make the server hold or do (issue 10, "Hostile
// participants"): the checks on client-supplied requests, the token buckets for message rates,
// and the counters /metrics shows for every refusal. The bounds themselves are
// config::LimitConfig settings.
//
// Threading: the checks and TokenBucket are plain functions/values used on the worker thread.
// LimitCounters are relaxed atomics: bumped on the worker, read by the control thread.
#include <google/protobuf/map.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/auth/access_token.hpp"
#include "common/config/media_config.hpp"
#include "livekit_rtc.pb.h"

namespace parlor::signal {

// How often each bound refused something since the start (exported as parlor_limit_*_total).
struct LimitCounters {
  std::atomic<uint64_t> tracks{0};              // limit.num_tracks
  std::atomic<uint64_t> track_request{0};       // name/stream/cid length, layers, codecs
  std::atomic<uint64_t> metadata{0};            // metadata, name or attributes of an update
  std::atomic<uint64_t> subscriptions{0};       // subscription_limit_video / _audio
  std::atomic<uint64_t> track_permissions{0};   // max_track_permissions (subscription_permission)
  std::atomic<uint64_t> signal_dropped{0};      // signal messages over the rate, dropped
  std::atomic<uint64_t> signal_disconnects{0};  // participants disconnected for flooding
  std::atomic<uint64_t> data_dropped{0};        // data packets over the rate (or size), dropped
  std::atomic<uint64_t> ws_send_overflow{0};    // connections closed with a full send queue

  // Downstream congestion control (signal/congestion.cpp), carried here because this is the
  // block every room of a signal server shares with the metrics exporter.
  struct Congestion {
    std::atomic<int64_t> subscribers{0};       // participants with a downlink estimate
    std::atomic<int64_t> congested{0};         // ... of which have seen congestion (constrained)
    std::atomic<int64_t> estimate_sum_bps{0};  // sum of the constrained ones' estimates
    std::atomic<uint64_t> feedbacks{0};        // transport-cc feedbacks received from subscribers
    std::atomic<uint64_t> pauses{0};           // video tracks paused for want of bandwidth
    std::atomic<uint64_t> resumes{0};
    std::atomic<uint64_t> probes{0};            // bandwidth probes started
    std::atomic<uint64_t> probes_succeeded{0};  // ... that showed the path carries the next step
    std::atomic<uint64_t> probe_padding_packets{0};
  } congestion;

  static void bump(std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }
};

// A token bucket: `rate` tokens a second, at most `capacity` saved up. take() never allocates
// and never throws, so the media path may use it.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(double rate, double capacity, Clock::time_point now = Clock::now())
      : rate_(rate), capacity_(capacity), tokens_(capacity), last_(now) {}

  // Takes `cost` tokens if there are that many; false (nothing taken) otherwise.
  bool take(double cost, Clock::time_point now) {
    refill(now);
    if (tokens_ < cost) return false;
    tokens_ -= cost;
    return true;
  }
  double tokens(Clock::time_point now) {
    refill(now);
    return tokens_;
  }

 private:
  void refill(Clock::time_point now) {
    if (now <= last_) return;
    tokens_ =
        std::min(capacity_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }

  double rate_;
  double capacity_;
  double tokens_;
  Clock::time_point last_;
};

// The signaling rate of one participant: `signal_messages_per_second` sustained with a burst of
// `signal_burst`. Messages beyond it are dropped; a client that keeps sending while refused
// (another burst's worth of dropped messages faster than the rate forgives them) is flooding
// and is to be disconnected.
// True when a SignalRequest's bytes carry a LeaveRequest (field 8, length-delimited): the one
// request the rate limit never drops, so a client that flooded can still leave at once.
inline bool is_leave_request(std::string_view bytes) {
  constexpr unsigned char kLeaveTag = (8 << 3) | 2;
  return !bytes.empty() && static_cast<unsigned char>(bytes.front()) == kLeaveTag;
}

class SignalRateLimiter {
 public:
  enum class Verdict { kAccept, kDrop, kDisconnect };
  using Clock = TokenBucket::Clock;

  explicit SignalRateLimiter(const config::LimitConfig& limits,
                             Clock::time_point now = Clock::now())
      : allowed_(limits.signal_messages_per_second, limits.signal_burst, now),
        forgiven_(limits.signal_messages_per_second, limits.signal_burst, now) {}

  Verdict admit(Clock::time_point now) {
    if (allowed_.take(1, now)) return Verdict::kAccept;
    return forgiven_.take(1, now) ? Verdict::kDrop : Verdict::kDisconnect;
  }

 private:
  TokenBucket allowed_;
  TokenBucket forgiven_;
};

// Data packets of one participant: packets and bytes a second, one second's worth of burst.
class DataRateLimiter {
 public:
  using Clock = TokenBucket::Clock;
  explicit DataRateLimiter(const config::LimitConfig& limits, Clock::time_point now = Clock::now())
      : packets_(limits.data_packets_per_second, limits.data_packets_per_second, now),
        bytes_(limits.data_bytes_per_second, limits.data_bytes_per_second, now) {}

  bool admit(size_t bytes, Clock::time_point now) {
    if (bytes_.tokens(now) < static_cast<double>(bytes)) return false;
    if (!packets_.take(1, now)) return false;
    return bytes_.take(static_cast<double>(bytes), now);
  }

 private:
  TokenBucket packets_;
  TokenBucket bytes_;
};

// Why an AddTrackRequest is refused by its size (nullopt: within the limits).
std::optional<std::string> check_add_track(const livekit::AddTrackRequest& request,
                                           const config::LimitConfig& limits);

// A copy of a refused AddTrackRequest small enough to echo back in a RequestResponse: the
// client matches it by cid, so oversized fields are cleared rather than sent back.
livekit::AddTrackRequest echo_of(const livekit::AddTrackRequest& request,
                                 const config::LimitConfig& limits);

// Why participant attributes after an update would exceed the limits (count, bytes of keys and
// values). `updates` merges into `current` the way UpdateParticipantMetadata does (an empty
// value deletes the key).
std::optional<std::string> check_attributes(
    const std::map<std::string, std::string>& current,
    const google::protobuf::Map<std::string, std::string>& updates,
    const config::LimitConfig& limits);
std::optional<std::string> check_attributes(const std::map<std::string, std::string>& attributes,
                                            const config::LimitConfig& limits);

// Why a join's metadata or attributes (from the token, or the v1 JoinRequest) exceed the limits.
std::optional<std::string> check_join_claims(const auth::ClaimGrants& claims,
                                             const config::LimitConfig& limits);

}  // namespace parlor::signal
