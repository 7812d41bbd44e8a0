#include "sfu/stream_allocator.hpp"

#include <algorithm>

namespace parlor::sfu {

namespace {
// The highest flowing layer at or below `top` (-1 none).
int flowing_at_or_below(const StreamAllocator::Track& t, int top) {
  for (int l = std::min(top, StreamAllocator::kMaxLayers - 1); l >= 0; --l) {
    if (t.layer_bps[l] > 0) return l;
  }
  return -1;
}
int lowest_flowing(const StreamAllocator::Track& t) {
  for (int l = 0; l < StreamAllocator::kMaxLayers; ++l) {
    if (t.layer_bps[l] > 0) return l;
  }
  return -1;
}
// The next flowing layer above `layer` up to `top` (-1 none).
int next_flowing(const StreamAllocator::Track& t, int layer, int top) {
  for (int l = layer + 1; l <= std::min(top, StreamAllocator::kMaxLayers - 1); ++l) {
    if (t.layer_bps[l] > 0) return l;
  }
  return -1;
}
}  // namespace

void StreamAllocator::fit(std::optional<int64_t> budget_bps, std::span<const Track> tracks, std::span<Decision> out) {
  for (size_t i = 0; i < tracks.size(); ++i) {
    const auto& t = tracks[i];
    out[i] = {t.key, std::clamp(t.max_layer, 0, kMaxLayers - 1), false};
  }
  shortfall_ = 0;
  if (!budget_bps) {
    spare_ = 0;
    return;
  }
  auto short_by = [&](int64_t need) {
    if (need > 0 && (shortfall_ == 0 || need < shortfall_)) shortfall_ = need;
  };
  int64_t budget = *budget_bps;
  for (const auto& t : tracks) {  // audio first: always sent, its bitrate reserved
    if (!t.video) budget -= t.layer_bps[0];
  }
  order_.clear();
  for (size_t i = 0; i < tracks.size(); ++i) {
    if (tracks[i].video) order_.push_back(i);
  }
  std::stable_sort(order_.begin(), order_.end(),
                   [&](size_t a, size_t b) { return tracks[a].priority > tracks[b].priority; });
  // Round 0: the lowest flowing layer of every video track, by priority; what does not fit pauses.
  for (size_t i : order_) {
    const auto& t = tracks[i];
    int low = lowest_flowing(t);
    if (low < 0) continue;  // nothing flows: nothing to decide (the track stays at its settings)
    if (t.layer_bps[low] <= budget || !config_.allow_pause) {
      out[i].cap = low;
      budget -= t.layer_bps[low];
    } else {
      out[i].paused = true;
      short_by(t.layer_bps[low] - budget);
    }
  }
  // Raise rounds: one layer per track per round, by priority, while it fits.
  bool raised = true;
  while (raised) {
    raised = false;
    for (size_t i : order_) {
      const auto& t = tracks[i];
      if (out[i].paused || lowest_flowing(t) < 0) continue;
      int cur = out[i].cap;
      int next = next_flowing(t, cur, t.max_layer);
      if (next < 0) continue;
      int64_t extra = t.layer_bps[next] - t.layer_bps[cur];
      if (extra > budget) {
        short_by(extra - budget);
        continue;
      }
      out[i].cap = next;
      budget -= extra;
      raised = true;
    }
  }
  // A track whose settings' layer is not flowing keeps the highest flowing one below it.
  for (size_t i : order_) {
    if (!out[i].paused && lowest_flowing(tracks[i]) >= 0) {
      out[i].cap = std::max(0, flowing_at_or_below(tracks[i], out[i].cap));
    }
  }
  spare_ = budget;
}

void StreamAllocator::allocate(std::optional<int64_t> budget_bps, std::span<const Track> tracks,
                               std::span<Decision> out, int64_t now_us, bool confirmed) {
  if (out.size() < tracks.size()) return;
  fit(budget_bps, tracks, out);
  std::vector<State> next;
  next.reserve(tracks.size());
  for (size_t i = 0; i < tracks.size(); ++i) {
    auto& d = out[i];
    auto prev = std::find_if(states_.begin(), states_.end(), [&](const State& s) { return s.key == d.key; });
    if (prev == states_.end()) {  // a new track: its first allocation applies at once
      next.push_back({d.key, d.cap, d.paused, -1, tracks[i].max_layer});
      continue;
    }
    State s = *prev;
    // Damping is for what the budget gives back after congestion. A raise the subscriber asked
    // for (its settings' layer went up) takes what fits at once, and so does any raise while
    // nothing constrains (no estimate in force).
    const bool asked = tracks[i].max_layer > s.max_layer;
    s.max_layer = tracks[i].max_layer;
    // Rank a decision: paused below every layer.
    auto rank = [](bool paused, int cap) { return paused ? -1 : cap; };
    int want = rank(d.paused, d.cap), have = rank(s.paused, s.cap);
    if (want <= have || asked || !budget_bps || confirmed) {  // down, asked for, unconstrained or probed: at once
      s.cap = d.cap;
      s.paused = d.paused;
      s.raise_since_us = -1;
    } else {
      if (s.raise_since_us < 0) s.raise_since_us = now_us;
      if (now_us - s.raise_since_us >= config_.raise_after_us) {
        s.cap = d.cap;
        s.paused = d.paused;
        s.raise_since_us = -1;
      } else {
        d.cap = s.paused ? d.cap : s.cap;  // hold what was applied
        d.paused = s.paused;
      }
    }
    next.push_back(s);
  }
  states_ = std::move(next);
}

}  // namespace parlor::sfu
