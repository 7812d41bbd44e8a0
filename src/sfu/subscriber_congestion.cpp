#include "sfu/subscriber_congestion.hpp"

#include <algorithm>
#include <optional>

#include "sfu/down_track.hpp"
#include "sfu/up_track.hpp"

namespace parlor::sfu {

bool SubscriberCongestion::on_feedback(const rtc::rtcp::Header& header, Clock::time_point now) {
  auto fb = rtc::rtcp::read_twcc(header, statuses_);
  if (!fb) return false;
  bwe_.on_feedback(std::span(statuses_.data(), fb->written), micros(now));
  return true;
}

void SubscriberCongestion::allocate(std::span<const Entry> entries, Clock::time_point now,
                                    std::vector<PauseChange>& changes) {
  tracks_.clear();
  for (const auto& e : entries) {
    StreamAllocator::Track t;
    t.key = e.key;
    t.video = e.down->video();
    t.max_layer = e.down->max_layer();
    // The speaker first; then the layer the subscriber asked for, which stands for the size it
    // shows the track at (adaptive stream: larger tiles ask for higher layers).
    t.priority = (e.speaking ? StreamAllocator::kMaxLayers : 0) + e.down->max_layer();
    for (int l = 0; l < StreamAllocator::kMaxLayers; ++l) t.layer_bps[l] = e.up->layer_bitrate(l, now);
    if (!t.video) {  // audio: one layer, wherever it came in
      int64_t sum = 0;
      for (auto bps : t.layer_bps) sum += bps;
      t.layer_bps = {sum, 0, 0};
    }
    if (e.down->paused()) {  // paused by its settings: it costs nothing and is not ours to resume
      t.layer_bps = {};
    }
    tracks_.push_back(t);
  }
  decisions_.resize(tracks_.size());
  const int64_t now_us = micros(now);
  if (auto outcome = bwe_.take_probe_outcome(now_us)) {
    // Success: the path carried what the next step needs (the estimate now says so too).
    bool enough = outcome->success && outcome->result_bps >= probe_needed_bps_;
    (enough ? probe_counters_.succeeded : probe_counters_.failed) += 1;
    if (enough) {
      probe_confirmed_ = true;
      probe_interval_us_ = config_.probe.min_interval_us;
    } else {
      probe_interval_us_ = std::min(config_.probe.max_interval_us, std::max(config_.probe.min_interval_us, probe_interval_us_ * 2));
    }
    next_probe_us_ = now_us + probe_interval_us_;
  }
  // Like LiveKit: no constraint before the estimator has seen congestion once.
  std::optional<int64_t> budget;
  if (config_.enabled && bwe_.congested()) budget = bwe_.estimate_bps();
  allocator_.allocate(budget, tracks_, decisions_, now_us, probe_confirmed_);
  probe_confirmed_ = false;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto* down = entries[i].down;
    const auto& d = decisions_[i];
    if (!down->video()) continue;
    down->set_layer_cap(d.cap);
    bool paused = d.paused && !down->paused();
    if (paused == down->congestion_paused()) continue;
    down->set_congestion_paused(paused);
    if (!paused && !down->paused()) entries[i].up->request_keyframe(*down, now, true);
    changes.push_back({entries[i].key, paused});
  }
  if (budget) maybe_probe(entries, now_us);
}

// A probe when something is held below what its subscriber wants, the estimate has been steady
// for a moment, and the last probe is far enough behind; only with a stream to pad on.
void SubscriberCongestion::maybe_probe(std::span<const Entry> entries, int64_t now_us) {
  const auto& p = config_.probe;
  if (!p.enabled || bwe_.probing() || bwe_.probe_pending()) return;
  int64_t shortfall = allocator_.shortfall_bps();
  if (shortfall <= 0 || now_us < next_probe_us_) return;
  if (int64_t fell = bwe_.last_decrease_us(); fell >= 0 && now_us - fell < p.quiet_after_decrease_us) return;
  bool can_pad = false;
  for (const auto& e : entries) can_pad = can_pad || (e.down->video() && e.down->can_pad());
  if (!can_pad) return;
  if (probe_interval_us_ == 0) probe_interval_us_ = p.min_interval_us;
  int64_t estimate = bwe_.estimate_bps();
  probe_needed_bps_ = estimate + shortfall;
  int64_t target = std::min(config_.bwe.max_bps, static_cast<int64_t>(static_cast<double>(probe_needed_bps_) * p.overshoot));
  if (target <= estimate) return;  // at the ceiling already
  bwe_.start_probe(target, now_us);
  ++probe_counters_.started;
}

void SubscriberCongestion::pace(Clock::time_point now, DownTrack* padder) {
  if (!bwe_.probing()) return;
  const int64_t now_us = micros(now);
  const int64_t elapsed = now_us - bwe_.probe_started_us();
  if (elapsed >= config_.probe.duration_us || !padder) {
    bwe_.end_probe(now_us);
    return;
  }
  // What the cluster should have carried by the next call (~one timer tick ahead), minus what
  // media and padding put in so far.
  constexpr int64_t kAheadUs = 10'000;
  constexpr int kMaxPerCall = 64;
  int64_t due = bwe_.probe_target_bps() * (elapsed + kAheadUs) / 8'000'000 - bwe_.probe_sent_bytes();
  for (int n = 0; due > 0 && n < kMaxPerCall; ++n) {
    size_t sent = padder->send_padding(DownTrack::kMaxPadding);
    if (sent == 0) break;
    due -= static_cast<int64_t>(sent);
    ++probe_counters_.padding_packets;
    probe_counters_.padding_bytes += sent;
  }
}

}  // namespace parlor::sfu
