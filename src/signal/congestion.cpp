// Participant: downstream congestion control (issue 11). The subscriber's transport-cc feedback
// feeds its estimator (sfu/subscriber_congestion.hpp); on every room tick the allocator caps or
// pauses its video DownTracks to fit, and the client hears of pauses through
// stream_state_update (spec §2.7, StreamStateUpdate: PAUSED / ACTIVE).
#include <spdlog/spdlog.h>

#include "signal/participant.hpp"
#include "signal/room.hpp"

namespace parlor::signal {

namespace {
sfu::CongestionConfig congestion_config(const config::CongestionControlConfig& c) {
  sfu::CongestionConfig out;
  out.enabled = c.enabled;
  out.bwe.min_bps = static_cast<int64_t>(c.min_bitrate);
  out.bwe.max_bps = static_cast<int64_t>(c.max_bitrate);
  out.bwe.initial_bps = static_cast<int64_t>(c.initial_bitrate);
  out.allocator.allow_pause = c.allow_pause;
  out.allocator.raise_after_us = static_cast<int64_t>(c.raise_after * 1e6);
  out.probe.enabled = c.probe_mode != "none";
  return out;
}
}  // namespace

std::unique_ptr<sfu::SubscriberCongestion> make_subscriber_congestion(const config::MediaConfig& config) {
  return std::make_unique<sfu::SubscriberCongestion>(congestion_config(config.rtc.congestion_control));
}

void Participant::on_transport_feedback(const rtc::rtcp::Header& header, Clock::time_point now) {
  if (congestion_->on_feedback(header, now)) LimitCounters::bump(room_.limit_counters().congestion.feedbacks);
}

// Every DownTrack on the subscriber's transport stamps the transport-wide sequence number once
// the subscriber negotiated the extension (v1: its offer; v0: its answer to ours).
void Participant::apply_transport_cc() {
  int ext = congestion_->enabled() ? transport_cc_ext() : 0;
  for (auto& s : subscriptions_) {
    if (s->down) s->down->set_transport_cc(&congestion_->bwe(), static_cast<uint8_t>(ext));
  }
}

void Participant::run_congestion_control(Clock::time_point now) {
  cc_entries_.clear();
  for (auto& s : subscriptions_) {
    if (s->down && s->track && s->track->up) {
      bool speaking = s->publisher && room_.speaking(s->publisher->sid());
      cc_entries_.push_back({s->ssrc, s->down.get(), s->track->up.get(), speaking});
    }
  }
  cc_changes_.clear();
  congestion_->allocate(cc_entries_, now, cc_changes_);
  if (!cc_changes_.empty()) {
    livekit::SignalResponse r;
    auto* update = r.mutable_stream_state_update();
    auto& counters = room_.limit_counters().congestion;
    for (const auto& change : cc_changes_) {
      auto it = subscription_by_ssrc_.find(static_cast<uint32_t>(change.key));
      if (it == subscription_by_ssrc_.end() || !it->second->publisher) continue;
      auto* info = update->add_stream_states();
      info->set_participant_sid(it->second->publisher->sid());
      info->set_track_sid(it->second->track_sid);
      info->set_state(change.paused ? livekit::PAUSED : livekit::ACTIVE);
      (change.paused ? counters.pauses : counters.resumes).fetch_add(1, std::memory_order_relaxed);
      room_.worker().log().debug("bwe: {} room={} subscriber={} track={} estimate={}",
                                 change.paused ? "paused" : "resumed", room_.info().name(), sid_, it->second->track_sid,
                                 congestion_->bwe().estimate_bps());
    }
    if (update->stream_states_size() > 0 && started_) send(r);
  }
  publish_congestion_metrics(false);
}

void Participant::pace_probe(Clock::time_point now) {
  if (!congestion_->probing()) return;
  sfu::DownTrack* padder = nullptr;
  for (auto& s : subscriptions_) {
    if (s->down && s->down->video() && s->down->can_pad()) {
      padder = s->down.get();
      break;
    }
  }
  congestion_->pace(now, padder);
}

// The gauges are sums over participants: each adds the difference from what it added before.
void Participant::publish_congestion_metrics(bool leaving) {
  auto& c = room_.limit_counters().congestion;
  const auto& bwe = congestion_->bwe();
  bool counted = !leaving && bwe.feedbacks() > 0;
  bool congested = counted && bwe.congested();
  int64_t estimate = congested ? bwe.estimate_bps() : 0;
  bool was_counted = published_counted_;
  if (counted != was_counted) c.subscribers.fetch_add(counted ? 1 : -1, std::memory_order_relaxed);
  if (congested != published_congested_) c.congested.fetch_add(congested ? 1 : -1, std::memory_order_relaxed);
  c.estimate_sum_bps.fetch_add(estimate - published_estimate_, std::memory_order_relaxed);
  const auto& probes = congestion_->probe_counters();
  c.probes.fetch_add(probes.started - published_probes_.started, std::memory_order_relaxed);
  c.probes_succeeded.fetch_add(probes.succeeded - published_probes_.succeeded, std::memory_order_relaxed);
  c.probe_padding_packets.fetch_add(probes.padding_packets - published_probes_.padding_packets, std::memory_order_relaxed);
  published_probes_ = probes;
  published_counted_ = counted;
  published_congested_ = congested;
  published_estimate_ = estimate;
}

}  // namespace parlor::signal
