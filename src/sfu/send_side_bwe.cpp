#include "sfu/send_side_bwe.hpp"

#include <algorithm>
#include <cmath>

namespace parlor::sfu {

namespace {
// draft-ietf-rmcat-gcc-02 §5.2: packets sent within a burst time of the group's first form
// one group (a frame's packets, paced out together).
constexpr int64_t kBurstUs = 5000;
// libwebrtc also merges a packet that arrives within the burst time of its group's last one
// while its propagation delay shrank (the network released a queued burst), up to this span.
constexpr int64_t kMaxBurstSpanUs = 100000;
// Trendline filter: exponential smoothing of the accumulated delay, and the gain that turns the
// fitted slope into the quantity compared with the threshold (libwebrtc's values).
constexpr double kSmoothing = 0.9;
constexpr double kThresholdGain = 4.0;
constexpr int kMaxDeltas = 60;
// Overuse detector (§5.4): the signal must persist this long (ms) over two groups at least.
constexpr double kOveruseTimeMs = 10.0;
// Adaptive threshold (§5.4): initial value, bounds (ms), gains for a trend below and above it,
// and the excursion beyond which a sample is an outlier that does not move the threshold.
constexpr double kInitialThreshold = 12.5;
constexpr double kMinThreshold = 6.0;
constexpr double kMaxThreshold = 600.0;
constexpr double kThresholdKDown = 0.039;
constexpr double kThresholdKUp = 0.0087;
constexpr double kMaxThresholdExcursion = 15.0;
constexpr double kMaxThresholdStepMs = 100.0;
// AIMD (§5.5): multiplicative increase per second far from the last congestion point, decrease
// factor applied to the acknowledged throughput, and the least time between two decreases (the
// previous one must have had a round trip to act).
constexpr double kIncreasePerSecond = 1.08;
constexpr double kBeta = 0.85;
constexpr int64_t kMinDecreaseIntervalUs = 200000;
// Additive increase near the congestion point: about one packet per response time (an RTT,
// assumed 100 ms without measurement, plus 100 ms), at least 4 kbit/s per second.
constexpr double kResponseTimeMs = 200.0;
constexpr double kPacketBits = 1200 * 8;
constexpr double kFrameRate = 30;
constexpr double kMinAdditiveBpsPerSecond = 4000;
constexpr double kLinkSmoothing = 0.05;
// Acknowledged throughput: over this window of arrivals, once it spans enough time to mean it.
constexpr int64_t kAckedWindowUs = 1000000;
constexpr int64_t kAckedMinSpanUs = 250000;
// Loss-based bound (§6): evaluated over at least this many reports and this much time.
constexpr int64_t kLossMinPackets = 50;
constexpr int64_t kLossIntervalUs = 300000;
constexpr int64_t kLossDecreaseIntervalUs = 300000;  // about one RTT plus the feedback interval
constexpr double kLossHigh = 0.10;
constexpr double kLossLow = 0.02;
// A window at a low rate can span seconds; growth is credited for at most this long of one.
constexpr double kMaxLossGrowthSeconds = 2.0;
// Probe clusters (libwebrtc's probe bitrate estimator): evaluated once this share of the packets
// has been reported, from at least this many; more loss than kProbeMaxLoss fails it; a receive
// rate below kProbeSaturated × the send rate means the path is full: 95 % of what it took in.
constexpr double kProbeReportedShare = 0.8;
constexpr int kProbeMinPackets = 5;
constexpr double kProbeMaxLoss = 0.10;
constexpr double kProbeSaturated = 0.9;
constexpr double kProbeUtilization = 0.95;
constexpr int64_t kProbeMinSpanUs = 1000;
}  // namespace

SendSideBwe::SendSideBwe(const BweConfig& config)
    : config_(config),
      delay_rate_(std::clamp(config.initial_bps, config.min_bps, config.max_bps)),
      loss_rate_(config.max_bps) {
  threshold_ = kInitialThreshold;
}

int64_t SendSideBwe::steady_now_us() {
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::microseconds>(now).count();
}

int64_t SendSideBwe::estimate_bps() const {
  return std::clamp(std::min(delay_rate_, loss_rate_), config_.min_bps, config_.max_bps);
}

void SendSideBwe::on_packet_sent(size_t bytes, int64_t send_us) {
  auto& s = sent_[static_cast<size_t>(next_) % kHistory];
  s.sequence = next_;
  s.send_us = send_us;
  s.bytes = static_cast<uint32_t>(std::min<size_t>(bytes, UINT32_MAX));
  s.reported = false;
  s.cluster = 0;
  if (probe_.sending) {
    s.cluster = probe_.id;
    if (probe_.sent == 0) probe_.first_send_us = send_us;
    ++probe_.sent;
    probe_.sent_bytes += s.bytes;
    probe_.last_send_us = send_us;
    probe_.last_sent_bytes = s.bytes;
  }
  ++next_;
}

void SendSideBwe::start_probe(int64_t target_bps, int64_t now_us) {
  if (probe_.sending) end_probe(now_us);
  uint32_t id = probe_.id + 1;
  probe_ = Probe{};
  probe_.id = id;
  probe_.sending = true;
  probe_.taken = false;
  probe_.target_bps = target_bps;
  probe_.estimate_before = estimate_bps();
  probe_.start_us = now_us;
}

int64_t SendSideBwe::probe_floor(int64_t now_us) const {
  const auto& p = probe_;
  if (p.id == 0) return 0;
  if (!p.sending && now_us - p.end_us > kProbeGuardUs) return 0;
  if (p.evaluated && p.outcome.result_bps < p.estimate_before) return p.outcome.result_bps;  // it did narrow
  return p.estimate_before;
}

void SendSideBwe::end_probe(int64_t now_us) {
  if (!probe_.sending) return;
  probe_.sending = false;
  probe_.end_us = now_us;
}

void SendSideBwe::on_probe_report(const Sent& s, bool received, int64_t arrival_us) {
  if (s.cluster == 0 || s.cluster != probe_.id || probe_.evaluated) return;
  if (!received) {
    ++probe_.lost;
    return;
  }
  if (probe_.received == 0 || arrival_us < probe_.first_arrival_us) {
    probe_.first_arrival_us = arrival_us;
    probe_.first_arrival_bytes = s.bytes;
  }
  if (probe_.received == 0 || arrival_us > probe_.last_arrival_us) probe_.last_arrival_us = arrival_us;
  ++probe_.received;
  probe_.received_bytes += s.bytes;
}

// The rates over the cluster: sent from its first to its last packet (the last one's bytes left
// after the span), received from the first arrival to the last (the first one's bytes came in
// before it).
void SendSideBwe::evaluate_probe(bool timed_out) {
  auto& p = probe_;
  p.evaluated = true;
  ProbeOutcome o;
  o.target_bps = p.target_bps;
  o.packets = p.sent;
  int reported = p.received + p.lost;
  int64_t send_span = p.last_send_us - p.first_send_us;
  int64_t receive_span = p.last_arrival_us - p.first_arrival_us;
  bool measurable = !timed_out && p.sent >= kProbeMinPackets && p.received >= kProbeMinPackets &&
                    send_span >= kProbeMinSpanUs && receive_span >= kProbeMinSpanUs;
  if (measurable && static_cast<double>(p.lost) <= kProbeMaxLoss * reported) {
    o.send_bps = (p.sent_bytes - p.last_sent_bytes) * 8 * 1'000'000 / send_span;
    o.receive_bps = (p.received_bytes - p.first_arrival_bytes) * 8 * 1'000'000 / receive_span;
    int64_t result = std::min(o.send_bps, o.receive_bps);
    if (static_cast<double>(o.receive_bps) < kProbeSaturated * static_cast<double>(o.send_bps)) {
      result = static_cast<int64_t>(kProbeUtilization * static_cast<double>(o.receive_bps));
    }
    o.result_bps = std::clamp(result, config_.min_bps, config_.max_bps);
    o.success = true;
    if (o.result_bps > delay_rate_) {
      delay_rate_ = o.result_bps;
      // The path carries more than where congestion last set in: back to multiplicative growth.
      if (link_avg_kbps_ >= 0 && static_cast<double>(o.result_bps) / 1000.0 > link_avg_kbps_) link_avg_kbps_ = -1;
    }
    if (o.result_bps > loss_rate_) loss_rate_ = o.result_bps;
  }
  p.outcome = o;
}

std::optional<SendSideBwe::ProbeOutcome> SendSideBwe::take_probe_outcome(int64_t now_us) {
  auto& p = probe_;
  if (p.id == 0 || p.taken || p.sending) return std::nullopt;
  if (!p.evaluated) {
    if (now_us - p.end_us < kProbeFeedbackTimeoutUs) return std::nullopt;
    evaluate_probe(true);
  }
  p.taken = true;
  return p.outcome;
}

int64_t SendSideBwe::extend(uint16_t sequence) const {
  if (next_ == 0) return -1;
  int64_t last = next_ - 1;
  return last + static_cast<int16_t>(static_cast<uint16_t>(sequence - static_cast<uint16_t>(last)));
}

void SendSideBwe::on_feedback(std::span<const rtc::rtcp::TwccStatus> statuses, int64_t now_us) {
  ++feedbacks_;
  int64_t acked_bytes = 0, last_arrival = 0;
  bool any = false;
  for (const auto& st : statuses) {
    int64_t ext = extend(st.sequence);
    if (ext < 0 || ext >= next_) {
      ++unknown_;
      continue;
    }
    auto& s = sent_[static_cast<size_t>(ext) % kHistory];
    if (s.sequence != ext) {
      ++unknown_;
      continue;
    }
    if (s.reported) continue;  // reported before (a repeated feedback)
    s.reported = true;
    on_probe_report(s, st.received, st.arrival_us);
    if (!st.received) {
      ++loss_lost_;
      continue;
    }
    ++loss_received_;
    acked_bytes += s.bytes;
    last_arrival = any ? std::max(last_arrival, st.arrival_us) : st.arrival_us;
    any = true;
    on_arrival(s.send_us, st.arrival_us, s.bytes);
  }
  if (any) update_acked(last_arrival, acked_bytes);
  update_loss(now_us);
  update_rate(now_us);
  // A finished cluster is judged once most of it has been reported; a probe result comes after
  // this feedback's own delay- and loss-based update so that it is not lowered straight away.
  if (probe_.id > 0 && !probe_.sending && !probe_.evaluated &&
      probe_.received + probe_.lost >= std::max(kProbeMinPackets, static_cast<int>(kProbeReportedShare * probe_.sent))) {
    evaluate_probe(false);
  }
}

void SendSideBwe::on_arrival(int64_t send_us, int64_t arrival_us, uint32_t bytes) {
  if (!current_.valid) {
    current_ = {send_us, send_us, arrival_us, arrival_us, bytes, true};
    return;
  }
  if (send_us < current_.first_send_us) return;  // reordered from an earlier group: ignored
  bool in_burst = send_us - current_.first_send_us <= kBurstUs;
  int64_t arrival_delta = arrival_us - current_.last_arrival_us;
  int64_t propagation_delta = arrival_delta - (send_us - current_.last_send_us);
  bool released_burst = arrival_delta >= 0 && arrival_delta <= kBurstUs && propagation_delta < 0 &&
                        arrival_us - current_.first_arrival_us < kMaxBurstSpanUs;
  if (in_burst || released_burst) {
    current_.last_send_us = std::max(current_.last_send_us, send_us);
    current_.last_arrival_us = std::max(current_.last_arrival_us, arrival_us);
    current_.bytes += bytes;
    return;
  }
  if (previous_.valid) on_group_complete(previous_, current_);
  previous_ = current_;
  current_ = {send_us, send_us, arrival_us, arrival_us, bytes, true};
}

void SendSideBwe::on_group_complete(const Group& previous, const Group& current) {
  double send_delta_ms = static_cast<double>(current.last_send_us - previous.last_send_us) / 1000.0;
  double arrival_delta_ms = static_cast<double>(current.last_arrival_us - previous.last_arrival_us) / 1000.0;
  if (arrival_delta_ms < 0) return;  // reordered groups say nothing about the queue
  double arrival_ms = static_cast<double>(current.last_arrival_us) / 1000.0;
  update_trend(arrival_delta_ms - send_delta_ms, arrival_ms);
  detect(send_delta_ms, current.last_arrival_us);
}

// §5.3 (libwebrtc's trendline estimator): the slope of the smoothed accumulated delay over the
// arrival time of the last kTrendWindow groups, by least squares.
void SendSideBwe::update_trend(double delay_variation_ms, double arrival_ms) {
  if (first_arrival_ms_ < 0) first_arrival_ms_ = arrival_ms;
  deltas_ = std::min(deltas_ + 1, 1000);
  accumulated_delay_ += delay_variation_ms;
  smoothed_delay_ = kSmoothing * smoothed_delay_ + (1 - kSmoothing) * accumulated_delay_;
  trend_x_[trend_next_] = arrival_ms - first_arrival_ms_;
  trend_y_[trend_next_] = smoothed_delay_;
  trend_next_ = (trend_next_ + 1) % kTrendWindow;
  trend_count_ = std::min(trend_count_ + 1, kTrendWindow);
  if (trend_count_ < kTrendWindow) return;
  double x_avg = 0, y_avg = 0;
  for (size_t i = 0; i < kTrendWindow; ++i) {
    x_avg += trend_x_[i];
    y_avg += trend_y_[i];
  }
  x_avg /= kTrendWindow;
  y_avg /= kTrendWindow;
  double num = 0, den = 0;
  for (size_t i = 0; i < kTrendWindow; ++i) {
    num += (trend_x_[i] - x_avg) * (trend_y_[i] - y_avg);
    den += (trend_x_[i] - x_avg) * (trend_x_[i] - x_avg);
  }
  if (den != 0) trend_ = num / den;
}

// §5.4: overuse when the scaled trend stays above the threshold for kOveruseTimeMs over two
// groups at least and is not falling; underuse when it is below minus the threshold.
void SendSideBwe::detect(double send_delta_ms, int64_t arrival_us) {
  if (deltas_ < 2) return;
  double modified = std::min(deltas_, kMaxDeltas) * trend_ * kThresholdGain;
  modified_trend_ = modified;
  if (modified > threshold_) {
    time_over_using_ = time_over_using_ < 0 ? send_delta_ms / 2 : time_over_using_ + send_delta_ms;
    ++overuse_count_;
    if (time_over_using_ > kOveruseTimeMs && overuse_count_ > 1 && trend_ >= previous_trend_) {
      time_over_using_ = 0;
      overuse_count_ = 0;
      signal_ = Signal::kOverusing;
    }
  } else if (modified < -threshold_) {
    time_over_using_ = -1;
    overuse_count_ = 0;
    signal_ = Signal::kUnderusing;
  } else {
    time_over_using_ = -1;
    overuse_count_ = 0;
    signal_ = Signal::kNormal;
  }
  previous_trend_ = trend_;
  update_threshold(modified, arrival_us);
}

void SendSideBwe::update_threshold(double modified, int64_t arrival_us) {
  if (last_threshold_update_us_ < 0) last_threshold_update_us_ = arrival_us;
  double magnitude = std::fabs(modified);
  if (magnitude > threshold_ + kMaxThresholdExcursion) {  // an outlier (e.g. a route change)
    last_threshold_update_us_ = arrival_us;
    return;
  }
  double k = magnitude < threshold_ ? kThresholdKDown : kThresholdKUp;
  double dt_ms = std::clamp(static_cast<double>(arrival_us - last_threshold_update_us_) / 1000.0, 0.0, kMaxThresholdStepMs);
  threshold_ += k * (magnitude - threshold_) * dt_ms;
  threshold_ = std::clamp(threshold_, kMinThreshold, kMaxThreshold);
  last_threshold_update_us_ = arrival_us;
}

// §5.5: the rate controller's state machine driven by the detector's signal, then the rate.
void SendSideBwe::update_rate(int64_t now_us) {
  if (last_rate_update_us_ < 0) last_rate_update_us_ = now_us;
  double dt_s = std::clamp(static_cast<double>(now_us - last_rate_update_us_) / 1e6, 0.0, 1.0);
  last_rate_update_us_ = now_us;
  switch (signal_) {
    case Signal::kNormal:
      if (state_ == RateState::kHold) state_ = RateState::kIncrease;
      else if (state_ == RateState::kDecrease) state_ = RateState::kHold;
      break;
    case Signal::kOverusing:
      state_ = RateState::kDecrease;
      break;
    case Signal::kUnderusing:
      state_ = RateState::kHold;
      break;
  }
  double acked_kbps = static_cast<double>(acked_bps_) / 1000.0;
  double rate = static_cast<double>(delay_rate_);
  if (state_ == RateState::kIncrease) {
    double link_std = link_avg_kbps_ >= 0 ? std::sqrt(link_var_ * link_avg_kbps_) : 0;
    if (link_avg_kbps_ >= 0 && acked_kbps > link_avg_kbps_ + 3 * link_std) link_avg_kbps_ = -1;  // the link grew
    if (link_avg_kbps_ >= 0) {
      double bits_per_frame = rate / kFrameRate;
      double packets_per_frame = std::ceil(bits_per_frame / kPacketBits);
      double packet_bits = bits_per_frame / std::max(1.0, packets_per_frame);
      double per_second = std::max(kMinAdditiveBpsPerSecond, packet_bits * 1000.0 / kResponseTimeMs);
      rate += per_second * dt_s;
    } else {
      rate += std::max(rate * (std::pow(kIncreasePerSecond, dt_s) - 1.0), 1000.0 * dt_s);
    }
  } else if (state_ == RateState::kDecrease) {
    if (last_decrease_us_ < 0 || now_us - last_decrease_us_ >= kMinDecreaseIntervalUs) {
      double base = acked_bps_ > 0 ? static_cast<double>(acked_bps_) : rate;
      double lowered = std::max(kBeta * base, static_cast<double>(probe_floor(now_us)));
      if (lowered < rate) rate = lowered;
      if (acked_bps_ > 0) {  // remember where congestion set in
        if (link_avg_kbps_ < 0) {
          link_avg_kbps_ = acked_kbps;
        } else {
          double link_std = std::sqrt(link_var_ * link_avg_kbps_);
          if (std::fabs(acked_kbps - link_avg_kbps_) > 3 * link_std) link_avg_kbps_ = -1;
          link_avg_kbps_ = link_avg_kbps_ < 0 ? acked_kbps
                                              : (1 - kLinkSmoothing) * link_avg_kbps_ + kLinkSmoothing * acked_kbps;
        }
        double norm = std::max(link_avg_kbps_, 1.0);
        link_var_ = std::clamp((1 - kLinkSmoothing) * link_var_ +
                                   kLinkSmoothing * (link_avg_kbps_ - acked_kbps) * (link_avg_kbps_ - acked_kbps) / norm,
                               0.4, 2.5);
      }
      last_decrease_us_ = now_us;
      congested_ = true;
    }
    state_ = RateState::kHold;
  }
  delay_rate_ = std::clamp(static_cast<int64_t>(rate), config_.min_bps, config_.max_bps);
}

void SendSideBwe::update_acked(int64_t arrival_us, int64_t bytes) {
  acked_[acked_next_] = {arrival_us, bytes};
  acked_next_ = (acked_next_ + 1) % kAckedSlots;
  acked_count_ = std::min(acked_count_ + 1, kAckedSlots);
  // The bytes of every feedback in the window after its oldest one, over the time since it.
  auto in_window = [&](const Acked& a) { return a.arrival_us <= arrival_us && arrival_us - a.arrival_us <= kAckedWindowUs; };
  int64_t oldest = arrival_us;
  for (size_t i = 0; i < acked_count_; ++i) {
    if (in_window(acked_[i])) oldest = std::min(oldest, acked_[i].arrival_us);
  }
  int64_t span = arrival_us - oldest;
  if (span < kAckedMinSpanUs) return;
  int64_t newer = 0;
  for (size_t i = 0; i < acked_count_; ++i) {
    if (in_window(acked_[i]) && acked_[i].arrival_us > oldest) newer += acked_[i].bytes;
  }
  acked_bps_ = newer * 8 * 1'000'000 / span;
}

// §6: the loss-based bound, over windows of at least kLossMinPackets reports and kLossIntervalUs.
void SendSideBwe::update_loss(int64_t now_us) {
  int64_t total = loss_received_ + loss_lost_;
  if (total < kLossMinPackets) return;
  if (last_loss_update_us_ >= 0 && now_us - last_loss_update_us_ < kLossIntervalUs) return;
  double dt_s = last_loss_update_us_ < 0 ? 0.0
                                         : std::min(kMaxLossGrowthSeconds, static_cast<double>(now_us - last_loss_update_us_) / 1e6);
  double loss = static_cast<double>(loss_lost_) / static_cast<double>(total);
  last_loss_ = loss;
  loss_received_ = loss_lost_ = 0;
  last_loss_update_us_ = now_us;
  if (loss > kLossHigh) {
    if (last_loss_decrease_us_ < 0 || now_us - last_loss_decrease_us_ >= kLossDecreaseIntervalUs) {
      // From what got through when known (libwebrtc's newer loss controller does the same):
      // repeated lossy windows then do not compound while the sender is still slowing down.
      int64_t base = acked_bps_ > 0 ? acked_bps_ : estimate_bps();
      loss_rate_ = std::max(static_cast<int64_t>(static_cast<double>(base) * (1.0 - loss / 2)), probe_floor(now_us));
      last_loss_decrease_us_ = now_us;
      congested_ = true;
    }
  } else if (loss < kLossLow && loss_rate_ < config_.max_bps) {
    double grown = static_cast<double>(loss_rate_) * std::pow(kIncreasePerSecond, dt_s) + 1000.0 * dt_s;
    loss_rate_ = static_cast<int64_t>(grown);
  }
  loss_rate_ = std::clamp(loss_rate_, config_.min_bps, config_.max_bps);
}

}  // namespace parlor::sfu
