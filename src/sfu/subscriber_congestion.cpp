#include "sfu/subscriber_congestion.hpp"

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
    // The layer the subscriber asked for stands for the size it shows the track at.
    t.priority = e.down->max_layer();
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
  // Like LiveKit: no constraint before the estimator has seen congestion once (no probing yet).
  std::optional<int64_t> budget;
  if (config_.enabled && bwe_.congested()) budget = bwe_.estimate_bps();
  allocator_.allocate(budget, tracks_, decisions_, micros(now));
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
}

}  // namespace parlor::sfu
