#include "sfu/up_track.hpp"

#include <algorithm>
#include <cmath>

namespace parlor::sfu {

namespace {
using namespace std::chrono_literals;
constexpr auto kLayerIdle = 600ms;            // no packets for this long: the layer stopped
constexpr auto kLayerStable = 1500ms;         // a layer must flow this long before we move up
constexpr auto kKeyframeRequestInterval = 300ms;
constexpr auto kUrgentKeyframeRequestInterval = 50ms;
constexpr auto kChoiceInterval = 200ms;
constexpr size_t kCacheSlots = 512;  // ~1 s of 720p video per layer
constexpr uint8_t kSpeakingDbov = 50;     // louder than -50 dBov counts as voice
constexpr uint32_t kSpeakingPercent = 30; // of the packets in an interval
// Sequence numbers asked for in one NACK: 64 fit an RTCP packet of 268 bytes even when no two
// share a PID/BLP pair; the rest stay due and go with the next packet.
constexpr size_t kMaxNacksPerPacket = 64;
}  // namespace

uint64_t UpTrack::nacks_requested() const {
  uint64_t n = 0;
  for (const auto& l : layers_) n += l.nacks.requested();
  return n;
}

uint64_t UpTrack::nacks_recovered() const {
  uint64_t n = 0;
  for (const auto& l : layers_) n += l.nacks.recovered();
  return n;
}

bool UpTrack::Layer::active(Clock::time_point now) const {
  return ssrc != 0 && now - last_seen < kLayerIdle;
}

UpTrack::UpTrack(bool video, int layers, KeyframeRequest request_keyframe)
    : video_(video), layer_count_(std::clamp(layers, 1, kMaxLayers)), request_keyframe_(std::move(request_keyframe)) {}

size_t UpTrack::report_blocks(std::span<rtc::rtcp::ReportBlock> out, Clock::time_point now) {
  size_t n = 0;
  for (int i = 0; i < layer_count_ && n < out.size(); ++i) {
    auto& l = layers_[i];
    if (!l.counting || !l.active(now)) continue;
    uint64_t expected = l.max_seq - l.base_seq + 1;
    int64_t lost = static_cast<int64_t>(expected) - static_cast<int64_t>(l.received);
    uint64_t expected_interval = expected - l.expected_prior;
    uint64_t received_interval = l.received - l.received_prior;
    l.expected_prior = expected;
    l.received_prior = l.received;
    int64_t lost_interval = static_cast<int64_t>(expected_interval) - static_cast<int64_t>(received_interval);
    rtc::rtcp::ReportBlock b;
    b.ssrc = l.ssrc;
    b.fraction_lost = (expected_interval == 0 || lost_interval <= 0)
                          ? 0
                          : static_cast<uint8_t>(std::min<int64_t>(255, (lost_interval << 8) / static_cast<int64_t>(expected_interval)));
    b.cumulative_lost = static_cast<int32_t>(std::clamp<int64_t>(lost, -0x800000, 0x7FFFFF));
    b.highest_sequence = static_cast<uint32_t>(l.max_seq - (l.base_seq & ~uint64_t{0xFFFF}));  // cycles from 0
    b.jitter = 0;
    b.last_sr = l.last_sr;
    if (l.last_sr != 0) {
      auto since = std::chrono::duration_cast<std::chrono::microseconds>(now - l.last_sr_arrival).count();
      b.delay_since_last_sr = static_cast<uint32_t>(since * 65536 / 1000000);  // units of 1/65536 s
    }
    out[n++] = b;
  }
  return n;
}

void UpTrack::on_sender_report(uint32_t ssrc, uint64_t ntp_time, uint32_t rtp_time, Clock::time_point now) {
  for (int i = 0; i < layer_count_; ++i) {
    if (layers_[i].ssrc == ssrc) {
      layers_[i].last_sr = static_cast<uint32_t>(ntp_time >> 16);
      layers_[i].last_sr_arrival = now;
      layers_[i].clock = SenderClock{ntp_time, rtp_time, now};
    }
  }
}

int64_t UpTrack::layer_bitrate(int layer, Clock::time_point now) const {
  if (layer < 0 || layer >= layer_count_ || !layers_[layer].active(now)) return 0;
  return layers_[layer].rate.bps(now);
}

const UpTrack::SenderClock* UpTrack::sender_clock(int layer) const {
  if (layer < 0 || layer >= layer_count_ || !layers_[layer].clock) return nullptr;
  return &*layers_[layer].clock;
}

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
  if (server_muted_) return std::nullopt;
  if (layer < 0 || layer >= kMaxLayers || !caches_[layer]) return std::nullopt;
  return caches_[layer]->get(sequence);
}

UpTrack::~UpTrack() {
  for (auto* d : downs_) d->set_source(nullptr);
}

void UpTrack::add(DownTrack* down) {
  downs_.push_back(down);
  down->set_source(this);
  choose_now_ = true;
}

void UpTrack::remove(DownTrack* down) {
  if (std::erase(downs_, down) > 0) down->set_source(nullptr);
}

uint32_t UpTrack::wanted_layers() const {
  uint32_t mask = 1;
  for (const auto* d : downs_) {
    if (d->paused() || d->hidden()) continue;
    int top = std::min(d->max_layer(), layer_count_ - 1);
    for (int l = 0; l <= top; ++l) mask |= 1u << l;
  }
  return mask;
}

int UpTrack::selected_layer() const {
  int best = -1;
  for (const auto* d : downs_) best = std::max(best, d->current_layer());
  return best;
}

void UpTrack::set_server_muted(bool muted, Clock::time_point now) {
  if (muted == server_muted_) return;
  server_muted_ = muted;
  if (muted) return;
  for (auto* d : downs_) {
    d->resync();
    if (video_) request_keyframe(*d, now, true);
  }
}

void UpTrack::send_keyframe_request(int layer, Clock::time_point now, bool urgent) {
  if (server_muted_) return;
  if (layer < 0 || layer >= layer_count_ || layers_[layer].ssrc == 0) return;
  auto& last = last_keyframe_request_[layer];
  if (now - last < (urgent ? kUrgentKeyframeRequestInterval : kKeyframeRequestInterval)) return;
  last = now;
  request_keyframe_(layers_[layer].ssrc);
}

void UpTrack::request_keyframe(const DownTrack& down, Clock::time_point now, bool urgent) {
  int layer = down.target_layer() >= 0 ? down.target_layer() : down.current_layer();
  if (layer < 0) layer = desired_layer(down, now);
  send_keyframe_request(layer, now, urgent);
}

// The layer this subscriber should receive now: nothing yet → the lowest flowing layer; else
// the highest flowing layer within its max that is either not above what it has or has flowed
// steadily; if nothing within its max flows, the lowest flowing layer.
int UpTrack::desired_layer(const DownTrack& d, Clock::time_point now) const {
  int lowest = -1;
  for (int l = 0; l < layer_count_; ++l) {
    if (layers_[l].active(now)) {
      lowest = l;
      break;
    }
  }
  int current = d.current_layer();
  if (current < 0 || lowest < 0) return lowest;
  for (int l = std::min(d.allowed_layer(), layer_count_ - 1); l >= 0; --l) {
    const auto& layer = layers_[l];
    if (layer.active(now) && (l <= current || now - layer.first_seen >= kLayerStable)) return l;
  }
  return lowest;
}

void UpTrack::choose_targets(Clock::time_point now) {
  last_choice_ = now;
  choose_now_ = false;
  for (auto* d : downs_) {
    if (d->paused() || d->congestion_paused()) continue;
    int want = desired_layer(*d, now);
    if (want < 0 || want == d->current_layer()) {
      d->set_target_layer(-1);
      continue;
    }
    d->set_target_layer(want);
    send_keyframe_request(want, now);
  }
}

void UpTrack::on_repaired_packet(const rtc::RtpPacketView& packet, int layer, Clock::time_point now) {
  if (layer < 0 || layer >= layer_count_ || layers_[layer].ssrc != packet.ssrc()) return;
  if (caches_[layer] && caches_[layer]->get(packet.sequence())) {
    ++repaired_duplicates_;
    return;
  }
  on_packet(packet, layer, now);
}

void UpTrack::on_packet(const rtc::RtpPacketView& packet, int layer, Clock::time_point now) {
  if (layer < 0 || layer >= layer_count_) return;
  auto& l = layers_[layer];
  if (l.ssrc != packet.ssrc() || !l.active(now)) {
    if (l.ssrc != packet.ssrc()) {  // a new stream: its statistics start over
      l.unwrap = {};
      l.counting = false;
      l.received = l.expected_prior = l.received_prior = 0;
      l.last_sr = 0;
      l.clock.reset();
      l.nacks.reset();
    }
    l.ssrc = packet.ssrc();
    l.first_seen = now;
    choose_now_ = true;  // a layer (re)appeared
  }
  uint64_t ext = l.unwrap.unwrap(packet.sequence());
  if (!l.counting) {
    l.counting = true;
    l.base_seq = l.max_seq = ext;
  } else if (ext > l.max_seq) {
    l.max_seq = ext;
  }
  ++l.received;
  l.last_seen = now;
  if (video_ && request_nack_) {
    std::array<uint16_t, kMaxNacksPerPacket> lost;  // only the first n are read
    if (size_t n = l.nacks.on_packet(packet.sequence(), now, lost)) request_nack_(l.ssrc, std::span(lost.data(), n));
  }
  ++packets_;
  if (layer == 0) {  // the base layer always flows: quality is judged on it
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
  if (server_muted_) {  // the gate: after the statistics, before the cache and every subscriber
    ++muted_drops_;
    return;
  }
  l.rate.add(packet.bytes().size(), now);
  if (video_) {
    if (!caches_[layer]) caches_[layer] = std::make_unique<PacketCache>(kCacheSlots);
    caches_[layer]->store(packet.sequence(), packet.bytes());
  }

  if (!video_) {  // audio has one layer and needs no keyframe
    if (audio_layer_ < 0) audio_layer_ = layer;
    if (layer != audio_layer_) return;
    for (auto* d : downs_) d->forward(packet, false, false, layer);
    return;
  }
  if (choose_now_ || now - last_choice_ >= kChoiceInterval) choose_targets(now);
  bool keyframe = rtc::starts_keyframe(codec_, packet.payload());
  for (auto* d : downs_) {
    if (keyframe && d->target_layer() == layer) {
      d->set_target_layer(-1);
      d->forward(packet, true, true, layer);  // switch (or start) here
    } else if (d->current_layer() == layer) {
      d->forward(packet, keyframe, false, layer);
    }
  }
}

}  // namespace parlor::sfu
