#pragma once
// Send-side bandwidth estimation for one subscriber transport: what we sent (transport-wide
// sequence number → send time and size), matched against the subscriber's transport-cc
// feedback (rtc/rtcp/twcc.hpp), gives an estimate of the downlink's capacity that the stream
// allocator (sfu/stream_allocator.hpp) divides among the subscriber's tracks.
//
// Google congestion control, as draft-ietf-rmcat-gcc-02 and libwebrtc describe it (our code):
//  * delay-based: packets sent within 5 ms form a group; the variation of the inter-group delay
//    (arrival spacing minus send spacing) is accumulated, smoothed and fitted by a line over the
//    last 20 groups (trendline filter, §5.3); its slope, scaled, is compared with an adaptive
//    threshold (§5.4) → overuse / normal / underuse; an AIMD controller (§5.5) lowers the rate
//    to 0.85 × the throughput the receiver acknowledged on overuse, holds on underuse, and
//    otherwise raises it — 8 %/s far from the last congestion point, about one packet per
//    response time near it;
//  * loss-based (§6): over each window of reported packets, loss above 10 % lowers the bound to
//    (acknowledged throughput, else the estimate) × (1 − loss/2), loss below 2 % lets it grow
//    8 %/s, between holds;
//  * the estimate is the smaller of the two, clamped to [min, max].
//
// Start: at `initial_bps`. Like LiveKit's stream allocator, which does not constrain a
// subscriber before the first congestion signal, `congested()` stays false until one of the
// two estimators has lowered the rate once; callers may treat the estimate as unbounded till
// then (an initial guess must not hold every subscriber at low layers).
//
// Probing: between start_probe() and end_probe() every packet sent (media and the padding the
// caller adds to reach the probe's rate) belongs to one probe cluster. Once feedback has covered
// most of it, the cluster's rate is what the sender put out and what the receiver took in
// (libwebrtc's probe bitrate estimator: the smaller of the two, or 95 % of the receive rate when
// the receiver took in clearly less than was sent — the link is saturated). A result above the
// estimate raises both bounds to it at once; the estimate no longer has to climb 8 %/s. A probe
// into a full path queues its own overshoot, and the estimators see that queue; for a second after
// the cluster (kProbeGuardUs) their decreases stop at the estimate the probe started from, unless
// the probe itself measured less than that (then the path really did narrow).
//
// Threading: one worker thread. Fixed storage: the send history is a ring of kHistory entries;
// nothing is allocated per packet or per feedback.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "rtc/rtcp/twcc.hpp"

namespace parlor::sfu {

struct BweConfig {
  int64_t min_bps = 100'000;        // below this the estimate never goes (audio + a low layer)
  int64_t max_bps = 10'000'000;     // nor above this
  int64_t initial_bps = 1'000'000;  // libwebrtc starts at 300 kbit/s; a visit's 3 layers want more
};

class SendSideBwe {
 public:
  // Packets remembered for matching feedback: at 5 Mbit/s of 1200-byte packets, ~8 s.
  static constexpr size_t kHistory = 4096;

  enum class Signal { kNormal, kOverusing, kUnderusing };
  enum class RateState { kHold, kIncrease, kDecrease };

  explicit SendSideBwe(const BweConfig& config = {});

  // Sending side: the transport-wide sequence number the next packet carries; then, once it
  // left, on_packet_sent records it (and advances the number). Times are µs on one monotonic
  // clock: steady_clock by default, or the one set (tests drive simulated time through it).
  uint16_t next_sequence() const { return static_cast<uint16_t>(next_); }
  void on_packet_sent(size_t bytes, int64_t send_us);

  // A probe cluster (see above). start_probe() while one is still open ends that one first.
  struct ProbeOutcome {
    bool success = false;    // enough of it came back, with little loss, at a measurable rate
    int64_t target_bps = 0;  // the rate it was sent at
    int64_t result_bps = 0;  // the rate the path carried (0 on failure)
    int64_t send_bps = 0, receive_bps = 0;
    int packets = 0;         // sent in the cluster
  };
  void start_probe(int64_t target_bps, int64_t now_us);
  void end_probe(int64_t now_us);
  bool probing() const { return probe_.sending; }
  // Evaluated or given up, but not yet taken.
  bool probe_pending() const { return probe_.id > 0 && !probe_.evaluated; }
  int64_t probe_target_bps() const { return probe_.target_bps; }
  int64_t probe_started_us() const { return probe_.start_us; }
  int64_t probe_sent_bytes() const { return probe_.sent_bytes; }
  // The outcome of the last cluster, once (nullopt until it is known). A cluster whose feedback
  // has not come within kProbeFeedbackTimeoutUs of its end fails.
  std::optional<ProbeOutcome> take_probe_outcome(int64_t now_us);
  int64_t last_decrease_us() const { return std::max(last_decrease_us_, last_loss_decrease_us_); }
  static constexpr int64_t kProbeFeedbackTimeoutUs = 1'000'000;
  static constexpr int64_t kProbeGuardUs = 1'000'000;
  using ClockFn = int64_t (*)();
  void set_clock(ClockFn clock) { clock_ = clock; }
  int64_t now_us() const { return clock_(); }
  static int64_t steady_now_us();

  // One parsed feedback (the statuses read_twcc wrote), received at `now_us` on our clock.
  void on_feedback(std::span<const rtc::rtcp::TwccStatus> statuses, int64_t now_us);

  int64_t estimate_bps() const;
  int64_t delay_based_bps() const { return delay_rate_; }
  int64_t loss_based_bps() const { return loss_rate_; }
  // Throughput the receiver acknowledged over the last second (0 until known).
  int64_t acked_bps() const { return acked_bps_; }
  bool congested() const { return congested_; }
  Signal signal() const { return signal_; }
  RateState rate_state() const { return state_; }
  double last_loss() const { return last_loss_; }
  double threshold_ms() const { return threshold_; }
  double modified_trend() const { return modified_trend_; }
  uint64_t feedbacks() const { return feedbacks_; }
  uint64_t unknown_reports() const { return unknown_; }  // statuses for packets not (or no longer) in history
  const BweConfig& config() const { return config_; }

 private:
  struct Sent {
    int64_t sequence = -1;  // extended; -1 empty
    int64_t send_us = 0;
    uint32_t bytes = 0;
    bool reported = false;
    uint32_t cluster = 0;  // probe cluster id (0: none)
  };
  struct Probe {
    uint32_t id = 0;  // 0: none yet
    bool sending = false, evaluated = false, taken = true;
    int64_t target_bps = 0;
    int64_t estimate_before = 0;  // the estimate when it started: decreases stop here meanwhile
    int64_t start_us = 0, end_us = 0;
    int sent = 0, received = 0, lost = 0;
    int64_t sent_bytes = 0, received_bytes = 0;
    int64_t first_send_us = 0, last_send_us = 0, last_sent_bytes = 0;
    int64_t first_arrival_us = 0, last_arrival_us = 0, first_arrival_bytes = 0;
    ProbeOutcome outcome;
  };
  void on_probe_report(const Sent& s, bool received, int64_t arrival_us);
  void evaluate_probe(bool timed_out);
  // The least a decrease may lower a bound to at `now_us` (0: no floor): see kProbeGuardUs.
  int64_t probe_floor(int64_t now_us) const;
  struct Group {
    int64_t first_send_us = 0, last_send_us = 0;
    int64_t first_arrival_us = 0, last_arrival_us = 0;
    int64_t bytes = 0;
    bool valid = false;
  };
  // The extended sequence for a 16-bit one from the feedback: the one nearest the last sent.
  int64_t extend(uint16_t sequence) const;
  void on_arrival(int64_t send_us, int64_t arrival_us, uint32_t bytes);
  void on_group_complete(const Group& previous, const Group& current);
  void update_trend(double delay_variation_ms, double arrival_ms);
  void detect(double send_delta_ms, int64_t arrival_us);
  void update_threshold(double modified_trend, int64_t arrival_us);
  void update_rate(int64_t now_us);
  void update_acked(int64_t arrival_us, int64_t bytes);
  void update_loss(int64_t now_us);

  const BweConfig config_;
  ClockFn clock_ = &steady_now_us;
  // history
  std::array<Sent, kHistory> sent_{};
  int64_t next_ = 0;
  // grouping
  Group current_{}, previous_{};
  // trendline (window of the last kTrendWindow groups)
  static constexpr size_t kTrendWindow = 20;
  std::array<double, kTrendWindow> trend_x_{}, trend_y_{};
  size_t trend_count_ = 0, trend_next_ = 0;
  double first_arrival_ms_ = -1;
  double accumulated_delay_ = 0, smoothed_delay_ = 0;
  int deltas_ = 0;
  double trend_ = 0, previous_trend_ = 0, modified_trend_ = 0;
  // overuse detector
  double threshold_ = 12.5;
  int64_t last_threshold_update_us_ = -1;
  double time_over_using_ = -1;
  int overuse_count_ = 0;
  Signal signal_ = Signal::kNormal;
  // AIMD
  RateState state_ = RateState::kHold;
  int64_t delay_rate_;
  int64_t last_rate_update_us_ = -1;
  int64_t last_decrease_us_ = -1;
  double link_avg_kbps_ = -1, link_var_ = 0.4;  // throughput at decreases (libwebrtc's "avg max")
  // acknowledged throughput: per-feedback totals over the last second of arrivals
  static constexpr size_t kAckedSlots = 64;
  struct Acked {
    int64_t arrival_us = 0;
    int64_t bytes = 0;
  };
  std::array<Acked, kAckedSlots> acked_{};
  size_t acked_next_ = 0, acked_count_ = 0;
  int64_t acked_bps_ = 0;
  // loss
  int64_t loss_rate_;
  int64_t loss_received_ = 0, loss_lost_ = 0;
  int64_t last_loss_update_us_ = -1;
  int64_t last_loss_decrease_us_ = -1;
  double last_loss_ = 0;
  bool congested_ = false;
  uint64_t feedbacks_ = 0;
  uint64_t unknown_ = 0;
  Probe probe_;
};

}  // namespace parlor::sfu
