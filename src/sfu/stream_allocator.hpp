#pragma once
// Divides one subscriber's estimated downlink (sfu/send_side_bwe.hpp) among the tracks it
// receives: audio first (its measured bitrate is reserved), then video, fairly — every video
// track gets its lowest flowing layer before any is raised, then each is raised one layer per
// round in priority order (larger / more visible first) while the budget allows, never above
// the layer its track settings ask for. A video track whose lowest layer does not fit is paused
// (when allowed). Changes are damped: a lower layer or a pause applies at once; a higher layer
// or a resume only once the budget has allowed it continuously for `raise_after`.
//
// Pure logic: no I/O, no clock of its own; the caller passes the time. Threading: one worker
// thread. State: one entry per track key passed in the last call (bounded by the caller's
// subscriptions); entries for keys no longer passed are dropped.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace parlor::sfu {

struct StreamAllocatorConfig {
  bool allow_pause = true;             // pause a video track whose lowest layer does not fit
  int64_t raise_after_us = 3'000'000;  // headroom must hold this long before moving up
};

class StreamAllocator {
 public:
  static constexpr int kMaxLayers = 3;
  using Config = StreamAllocatorConfig;

  struct Track {
    uint64_t key = 0;   // the caller's identity for the track (stable across calls)
    bool video = true;
    int max_layer = kMaxLayers - 1;  // from the subscriber's track settings
    int priority = 0;                // higher is served first
    // Measured bitrate of each layer the publisher sends now; 0: not flowing (or not measured yet).
    std::array<int64_t, kMaxLayers> layer_bps{};
  };

  struct Decision {
    uint64_t key = 0;
    int cap = kMaxLayers - 1;  // highest layer the track may be forwarded at
    bool paused = false;       // nothing fits: forward nothing
  };

  explicit StreamAllocator(Config config = {}) : config_(config) {}

  // `budget_bps`: the subscriber's estimate, or nullopt while it is not constrained (no congestion
  // seen yet: every track gets its settings' layer). Writes one decision per track, in order.
  // `confirmed`: a probe has just shown the path carries the budget, so raises apply at once
  // instead of after `raise_after`.
  void allocate(std::optional<int64_t> budget_bps, std::span<const Track> tracks, std::span<Decision> out, int64_t now_us,
                bool confirmed = false);

  // What the last allocate() left over (negative when even the minimum did not fit).
  int64_t spare_bps() const { return spare_; }
  // How much more budget the last allocate() would have needed for its next step up: the least,
  // over tracks held below their settings' layer (or paused), of what their next layer (or their
  // lowest) costs beyond what was left. 0 when every track got what its settings ask for. What a
  // probe has to show before anything can be raised.
  int64_t shortfall_bps() const { return shortfall_; }

 private:
  struct State {
    uint64_t key = 0;
    int cap = kMaxLayers - 1;
    bool paused = false;
    int64_t raise_since_us = -1;  // since when a higher target than the applied one holds
    int max_layer = kMaxLayers - 1;  // the settings' layer at the last allocation
  };
  // The allocation without damping: what fits now.
  void fit(std::optional<int64_t> budget_bps, std::span<const Track> tracks, std::span<Decision> out);

  Config config_;
  std::vector<State> states_;
  std::vector<size_t> order_;  // scratch: video tracks by priority
  int64_t spare_ = 0;
  int64_t shortfall_ = 0;
};

}  // namespace parlor::sfu
