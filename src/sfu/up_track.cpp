#include "sfu/up_track.hpp"

#include <algorithm>
#include <cmath>

namespace parlor::sfu {

namespace {
using namespace std::chrono_literals;
constexpr auto kLayerIdle = 600ms;            // no packets for this long: the layer stopped
constexpr auto kLayerStable = 1500ms;         // a layer must flow this long before we move up
constexpr auto kKeyframeRequestInterval = 300ms;
constexpr auto kChoiceInterval = 200ms;
constexpr size_t kCacheSlots = 512;  // ~1 s of 720p video per layer
constexpr uint8_t kSpeakingDbov = 50;     // louder than -50 dBov counts as voice
constexpr uint32_t kSpeakingPercent = 30; // of the packets in an interval
}  // namespace

bool UpTrack::Layer::active(Clock::time_point now) const {
  return ssrc != 0 && now - last_seen < kLayerIdle;
}

UpTrack::UpTrack(bool video, int layers, KeyframeRequest request_keyframe)
    : video_(video), layer_count_(std::clamp(layers, 1, kMaxLayers)), request_keyframe_(std::move(request_keyframe)) {}

std::optional<double> UpTrack::take_loss() {
  if (interval_expected_ == 0) return std::nullopt;
  double received = static_cast<double>(std::min(interval_received_, interval_expected_));
  double loss = 1.0 - received / static_cast<double>(interval_expected_);
  interval_received_ = interval_expected_ = 0;
  return loss;
}

void UpTrack::note_audio_level(uint8_t dbov, bool voice) {
  ++level_samples_;
  if (voice && dbov <= kSpeakingDbov) ++voiced_samples_;
  level_sum_ += std::pow(10.0, -static_cast<double>(dbov) / 20.0);
}

UpTrack::Level UpTrack::take_level() {
  Level out;
  if (level_samples_ > 0) {
    out.level = static_cast<float>(level_sum_ / level_samples_);
    out.active = voiced_samples_ * 100 >= level_samples_ * kSpeakingPercent;
  }
  level_samples_ = voiced_samples_ = 0;
  level_sum_ = 0;
  return out;
}

std::optional<std::span<const uint8_t>> UpTrack::cached(int layer, uint16_t sequence) const {
  if (layer < 0 || layer >= kMaxLayers || !caches_[layer]) return std::nullopt;
  return caches_[layer]->get(sequence);
}

void UpTrack::add(DownTrack* down) {
  downs_.push_back(down);
  if (video_) send_keyframe_request(current_ >= 0 ? current_ : 0, Clock::now());
}

void UpTrack::remove(DownTrack* down) { std::erase(downs_, down); }

void UpTrack::send_keyframe_request(int layer, Clock::time_point now) {
  if (layer < 0 || layer >= layer_count_ || layers_[layer].ssrc == 0) return;
  if (now - last_keyframe_request_ < kKeyframeRequestInterval) return;
  last_keyframe_request_ = now;
  request_keyframe_(layers_[layer].ssrc);
}

void UpTrack::request_keyframe(Clock::time_point now) {
  send_keyframe_request(target_ >= 0 ? target_ : current_, now);
}

void UpTrack::choose_target(Clock::time_point now) {
  last_choice_ = now;
  int best = -1;
  for (int l = layer_count_ - 1; l >= 0; --l) {
    const auto& layer = layers_[l];
    if (layer.active(now) && (l <= current_ || now - layer.first_seen >= kLayerStable || current_ < 0)) {
      best = l;
      break;
    }
  }
  if (best < 0 || best == current_) {
    target_ = -1;
    return;
  }
  if (target_ != best) {
    target_ = best;
    last_keyframe_request_ = {};
  }
  send_keyframe_request(target_, now);
}

void UpTrack::on_packet(const rtc::RtpPacketView& packet, int layer, Clock::time_point now) {
  if (layer < 0 || layer >= layer_count_) return;
  auto& l = layers_[layer];
  if (l.ssrc != packet.ssrc() || !l.active(now)) {
    l.ssrc = packet.ssrc();
    l.first_seen = now;
  }
  l.last_seen = now;
  ++packets_;
  if (layer == (current_ >= 0 ? current_ : layer)) {
    uint16_t seq = packet.sequence();
    if (!loss_started_ || packet.ssrc() != loss_ssrc_) {
      loss_started_ = true;
      loss_ssrc_ = packet.ssrc();
      highest_seq_ = seq;
      ++interval_expected_;
    } else if (int16_t d = static_cast<int16_t>(seq - highest_seq_); d > 0) {
      interval_expected_ += static_cast<uint16_t>(d);
      highest_seq_ = seq;
    }
    ++interval_received_;
  }
  if (video_) {
    if (!caches_[layer]) caches_[layer] = std::make_unique<PacketCache>(kCacheSlots);
    caches_[layer]->store(packet.sequence(), packet.bytes());
  }

  if (!video_) {  // audio has one layer and needs no keyframe
    if (current_ < 0) current_ = layer;
    if (layer != current_) return;
    for (auto* d : downs_) d->forward(packet, false, false, layer);
    return;
  }
  if (now - last_choice_ >= kChoiceInterval || current_ < 0) choose_target(now);
  bool keyframe = vp8_starts_keyframe(packet.payload());
  bool switched = false;
  if (layer == target_ && keyframe) {
    current_ = target_;
    target_ = -1;
    switched = true;
  }
  if (layer != current_) return;
  for (auto* d : downs_) {
    if (d->waiting_for_keyframe() && !keyframe) continue;
    d->forward(packet, keyframe, switched, layer);
  }
  bool anyone_waiting = std::any_of(downs_.begin(), downs_.end(), [](auto* d) { return d->waiting_for_keyframe(); });
  if (anyone_waiting) send_keyframe_request(current_, now);
}

}  // namespace parlor::sfu
