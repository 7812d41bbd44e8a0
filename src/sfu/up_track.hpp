#pragma once
// The receiving side of one published track: its layers (one per simulcast rid, or a single
// layer), the subscribers' DownTracks, and for each subscriber the choice of layer: a new
// subscriber starts on the lowest flowing layer (its keyframe is small, so the first picture
// comes fast), then moves to the highest layer that has flowed steadily and that it asked for
// (its max layer), always switching at a keyframe of the target layer.
//
// Threading: worker thread only. DownTracks are owned by the subscriber side and must be
// removed before they are destroyed.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "rtc/rtcp/rtcp_packet.hpp"
#include "rtc/rtp/rtp_packet.hpp"
#include "sfu/bitrate_meter.hpp"
#include "sfu/down_track.hpp"
#include "sfu/nack_generator.hpp"
#include "sfu/packet_cache.hpp"

namespace parlor::sfu {

class UpTrack {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxLayers = 3;
  // Asks the publisher for a keyframe on the given layer's SSRC.
  using KeyframeRequest = std::function<void(uint32_t ssrc)>;

  // Asks the publisher to resend these packets of one layer's SSRC (an RTCP generic NACK).
  using NackRequest = std::function<void(uint32_t ssrc, std::span<const uint16_t> sequences)>;

  UpTrack(bool video, int layers, KeyframeRequest request_keyframe);
  // The codec the publisher sends (negotiated in its offer): how keyframes are found, where a
  // subscriber may start or switch layers. VP8 (video) or Opus (audio) until set.
  void set_codec(rtc::Codec codec) { codec_ = codec; }
  rtc::Codec codec() const { return codec_; }
  // Audio: the payload type of the publisher's RED (RFC 2198) packets when it sends Opus RED
  // (0 = plain Opus only). Its subscribers forward RED as is or its primary block alone.
  void set_red_payload_type(uint8_t payload_type) { red_payload_type_ = payload_type; }
  uint8_t red_payload_type() const { return red_payload_type_; }
  // Video only: gaps in what the publisher sends are asked for again (RFC 4585 §6.2.1).
  void set_nack_request(NackRequest request) { request_nack_ = std::move(request); }
  // Upstream repair totals over all layers: sequence numbers asked for, and recovered.
  uint64_t nacks_requested() const;
  uint64_t nacks_recovered() const;

  // A packet of layer `layer` (0 = lowest). Forwards it if it belongs to the selected layer.
  void on_packet(const rtc::RtpPacketView& packet, int layer, Clock::time_point now);
  // A packet repaired from the layer's RTX stream (already unwrapped, RFC 4588): taken like any
  // other if it fills a gap; dropped if that sequence number is already here (the sender probes
  // bandwidth by resending old packets on RTX).
  void on_repaired_packet(const rtc::RtpPacketView& packet, int layer, Clock::time_point now);
  // The SSRC a layer arrives on (0 until its first packet): what an RTX packet of it repairs.
  uint32_t layer_ssrc(int layer) const { return layer >= 0 && layer < layer_count_ ? layers_[layer].ssrc : 0; }
  uint64_t repaired_duplicates() const { return repaired_duplicates_; }
  // A subscriber asked for a keyframe (PLI/FIR) on what it receives; throttled per layer.
  // `urgent` (its transport just connected and it waits for a first picture) uses a shorter
  // throttle.
  void request_keyframe(const DownTrack& down, Clock::time_point now, bool urgent = false);

  // A packet of `layer` still in the retransmission cache (video only).
  std::optional<std::span<const uint8_t>> cached(int layer, uint16_t sequence) const;

  // Receiver reports for the publisher (RFC 3550 §6.4.2), one block per layer heard from:
  // cumulative and interval loss, extended highest sequence, and LSR/DLSR from its last SR.
  // Returns the number of blocks written. This loss feedback drives the sender's estimate.
  size_t report_blocks(std::span<rtc::rtcp::ReportBlock> out, Clock::time_point now);
  void on_sender_report(uint32_t ssrc, uint64_t ntp_time, uint32_t rtp_time, Clock::time_point now);

  // The publisher's clock for one layer, from its last sender report (RFC 3550 §6.4.1): the NTP
  // wall-clock time that corresponds to an RTP timestamp, and when that report arrived. Every
  // layer and every track of one publisher share the NTP clock, which is what lets a receiver
  // line audio up with video and map one simulcast layer's timestamps onto another's.
  struct SenderClock {
    uint64_t ntp = 0;  // 32.32 fixed point seconds
    uint32_t rtp = 0;
    Clock::time_point arrival{};
  };
  const SenderClock* sender_clock(int layer) const;
  // What one layer brings in now (bit/s over the meter's last window; 0 when it does not flow or
  // is not measured yet), for the stream allocator. Counted after the server-mute gate.
  int64_t layer_bitrate(int layer, Clock::time_point now) const;
  uint32_t clock_rate() const { return video_ ? kVideoClockRate : kAudioClockRate; }
  static constexpr uint32_t kVideoClockRate = 90000;  // RFC 7741 (VP8), RFC 6184 (H.264)
  static constexpr uint32_t kAudioClockRate = 48000;  // RFC 7587 (Opus)

  // Dynacast: the layers some subscriber may receive (bit i = layer i). The lowest layer is
  // always kept, so a new subscriber's first picture never waits for an encoder to restart.
  uint32_t wanted_layers() const;

  // A subscriber's DownTrack starts or stops receiving from this track; add() makes this its
  // source (for retransmissions and sender reports), remove() and the destructor undo that.
  void add(DownTrack* down);
  void remove(DownTrack* down);
  ~UpTrack();
  UpTrack(const UpTrack&) = delete;
  UpTrack& operator=(const UpTrack&) = delete;
  bool video() const { return video_; }
  // The highest layer any subscriber currently receives (-1 none).
  int selected_layer() const;
  size_t subscribers() const { return downs_.size(); }
  uint64_t packets() const { return packets_; }

  // Receive statistics since the last call, for connection quality: fraction of packets lost
  // (from sequence gaps on the forwarded layer's stream) in [0, 1]; nullopt if nothing arrived.
  std::optional<double> take_loss();
  // Audio level (RFC 6464) reported by the sender since the last call: the mean level as a
  // linear 0..1 value and whether voice was active often enough to count as speaking.
  struct Level {
    float level = 0;
    bool active = false;
  };
  void note_audio_level(uint8_t dbov, bool voice);
  Level take_level();

  // Server mute (RoomService MutePublishedTrack): while set, nothing of this track reaches a
  // subscriber, whatever the publisher sends: no packet is forwarded or kept for retransmission,
  // no NACK is served and no keyframe is requested. Receive statistics go on (the publisher's
  // congestion control still gets its reports). Lifting it resumes every subscriber at the next
  // packet (video: at a keyframe, asked for at once) with numbering continuous across the gap.
  // Hidden subscribers (DownTrack::hidden) do not count in wanted_layers(): what the publisher
  // is told must not reveal them.
  void set_server_muted(bool muted, Clock::time_point now);
  bool server_muted() const { return server_muted_; }
  uint64_t muted_drops() const { return muted_drops_; }

 private:
  struct Layer {
    uint32_t ssrc = 0;
    Clock::time_point first_seen{}, last_seen{};
    bool active(Clock::time_point now) const;
    // receive statistics for reports
    rtc::SequenceUnwrapper unwrap;
    bool counting = false;
    uint64_t base_seq = 0, max_seq = 0, received = 0;
    uint64_t expected_prior = 0, received_prior = 0;
    uint32_t last_sr = 0;  // middle 32 bits of the last SR's NTP time
    Clock::time_point last_sr_arrival{};
    std::optional<SenderClock> clock;  // from the last SR
    NackGenerator nacks;
    BitrateMeter rate;
  };
  void choose_targets(Clock::time_point now);
  int desired_layer(const DownTrack& down, Clock::time_point now) const;
  void send_keyframe_request(int layer, Clock::time_point now, bool urgent = false);

  uint64_t repaired_duplicates_ = 0;
  const bool video_;
  rtc::Codec codec_ = video_ ? rtc::Codec::kVp8 : rtc::Codec::kOpus;
  uint8_t red_payload_type_ = 0;
  const int layer_count_;
  KeyframeRequest request_keyframe_;
  NackRequest request_nack_;
  std::array<Layer, kMaxLayers> layers_{};
  // Per-layer NACK caches, allocated when a layer first appears (not per packet).
  std::array<std::unique_ptr<PacketCache>, kMaxLayers> caches_;
  int audio_layer_ = -1;  // audio: the one layer forwarded
  bool choose_now_ = false;  // a subscriber or a layer appeared: choose before forwarding
  std::array<Clock::time_point, kMaxLayers> last_keyframe_request_{};
  Clock::time_point last_choice_{};
  std::vector<DownTrack*> downs_;
  uint64_t packets_ = 0;
  bool server_muted_ = false;  // checked per packet; set on the worker thread
  uint64_t muted_drops_ = 0;
  // loss accounting (per interval)
  uint32_t loss_ssrc_ = 0;
  bool loss_started_ = false;
  uint16_t highest_seq_ = 0;
  uint64_t interval_received_ = 0, interval_expected_ = 0;
  // audio level accounting (per interval)
  uint32_t level_samples_ = 0, voiced_samples_ = 0;
  double level_sum_ = 0;
};

}  // namespace parlor::sfu
