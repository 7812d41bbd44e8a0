#pragma once
// The sending side of one forwarded track toward one subscriber: copies each packet without its
// header extensions (the subscriber negotiated its own ids, and a stale mid would misroute the
// packet inside a BUNDLE) — except, when negotiated, the transport-wide sequence number of the
// subscriber's transport (sfu/send_side_bwe.hpp) — and maps SSRC, payload type, sequence number and timestamp into the
// subscriber's numbering, continuous across source switches (simulcast layer changes).
//
// Threading: worker thread only. No allocation per packet.
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "rtc/codecs/codecs.hpp"
#include "rtc/rtcp/rtcp_packet.hpp"
#include "rtc/rtp/rtp_packet.hpp"
#include "rtc/transport/webrtc_transport.hpp"

namespace parlor::sfu {

class UpTrack;
class SendSideBwe;

class DownTrack {
 public:
  DownTrack(rtc::RtpSink& transport, uint32_t ssrc, uint8_t payload_type, bool video)
      : transport_(transport), ssrc_(ssrc), payload_type_(payload_type), video_(video) {}

  // `source_changed` marks the first packet after a switch of the incoming stream; video waits
  // for a keyframe before anything is sent (a decoder cannot start mid-picture).
  void forward(const rtc::RtpPacketView& in, bool keyframe, bool source_changed, int layer = 0);
  // A NACK for one of our sequence numbers: resend it from the publisher's cache if it belongs
  // to the current mapping and is still cached. False if it could not be served.
  bool retransmit(uint16_t sequence, const UpTrack& source);

  // Retransmissions go on an RTX stream (RFC 4588) when the subscriber negotiated one: its SSRC
  // and payload type; the original sequence number leads the payload.
  void set_rtx(uint32_t ssrc, uint8_t payload_type) {
    rtx_ssrc_ = ssrc;
    rtx_payload_type_ = payload_type;
  }
  uint32_t rtx_ssrc() const { return rtx_ssrc_; }
  // Audio: the subscriber takes Opus RED under this payload type (0 = plain Opus only: it gets
  // the primary block of a RED publisher's packets). The blocks inside carry its Opus type. A
  // publisher's RED goes as it is; plain Opus is made into RED here (RFC 2198, as LiveKit does):
  // each packet carries the payloads of up to kRedDistance packets before it, so the subscriber's
  // decoder repairs a loss of one or two in a row on the downlink without a retransmission.
  void set_red(uint8_t payload_type);
  uint8_t red_payload_type() const { return red_payload_type_; }

  // The publisher's track this one receives from (set by UpTrack::add/remove; null when none).
  void set_source(const UpTrack* source) { source_ = source; }

  // A sender report for this subscriber's stream (RFC 3550 §6.4.1): the publisher's NTP time
  // now, carried over from its last report on the layer being forwarded, with the RTP timestamp
  // that corresponds to it in this subscriber's numbering. Receivers pair these across a
  // participant's audio and video to keep lips in sync. Nullopt until media has been sent and
  // the publisher has reported on that layer.
  std::optional<rtc::rtcp::SenderInfo> sender_report(std::chrono::steady_clock::time_point now) const;

  uint32_t ssrc() const { return ssrc_; }
  bool video() const { return video_; }
  bool waiting_for_keyframe() const { return video_ && !started_; }
  void set_paused(bool paused) { paused_ = paused; if (paused) started_ = false; }
  bool paused() const { return paused_; }
  // The source was gated (server mute) and resumes: the next packet sent continues our numbering
  // (video: from a keyframe), so the gap is neither NACKed nor mistaken for loss.
  void resync() { rebase_ = true; }
  // Its subscriber is hidden: it must not change what the publisher is asked to send (dynacast).
  void set_hidden(bool hidden) { hidden_ = hidden; }
  bool hidden() const { return hidden_; }

  // Simulcast layer state, driven by the UpTrack: the layer being forwarded (-1 none yet), the
  // layer to switch to at its next keyframe (-1 none), and the highest layer this subscriber
  // wants (from its track settings).
  int current_layer() const { return started_ ? layer_ : -1; }
  int target_layer() const { return target_layer_; }
  void set_target_layer(int layer) { target_layer_ = layer; }
  int max_layer() const { return max_layer_; }
  void set_max_layer(int layer) { max_layer_ = layer; }
  // Congestion control (sfu/stream_allocator.hpp): a cap below the settings' max layer, and a
  // pause when not even the lowest layer fits (resumed at a keyframe, like a settings pause).
  void set_layer_cap(int layer) { layer_cap_ = layer; }
  int layer_cap() const { return layer_cap_; }
  int allowed_layer() const { return max_layer_ < layer_cap_ ? max_layer_ : layer_cap_; }
  void set_congestion_paused(bool paused) { congestion_paused_ = paused; if (paused) started_ = false; }
  bool congestion_paused() const { return congestion_paused_; }
  // Stamp every packet sent with the transport-wide sequence number (one-byte header extension
  // `ext_id`) and record it in `bwe`, shared by every DownTrack on the transport; null: none.
  void set_transport_cc(SendSideBwe* bwe, uint8_t ext_id) { bwe_ = ext_id ? bwe : nullptr; twcc_ext_ = ext_id; }
  // Bandwidth probes (sfu/subscriber_congestion.hpp): a padding-only packet (RFC 3550 §5.1 P bit,
  // no payload) on the RTX stream, stamped with the transport-wide sequence number, so that the
  // subscriber's feedback reports it while its decoder never sees it. Only on a stream with RTX
  // and transport-cc that has carried media (its timestamp is reused); a paused track's RTX stream
  // still carries probes — that is how a paused track earns its way back. Returns the bytes sent
  // (0: not sent).
  static constexpr size_t kMaxPadding = 255;
  bool can_pad() const { return rtx_ssrc_ != 0 && bwe_ != nullptr && packets_ > 0; }
  size_t send_padding(size_t padding);
  uint64_t packets() const { return packets_; }
  uint64_t retransmitted() const { return retransmitted_; }
  uint64_t padding_packets() const { return padding_packets_; }
  uint64_t octets() const { return octets_; }

 private:
  bool send_mapped(const rtc::RtpPacketView& in, uint16_t seq, uint32_t ts);
  // Writes the RED payload for plain Opus `primary` (sent as `seq`/`ts`) at `at`, with as many of
  // the previous packets as fit in `room` bytes; returns its length. Then remembers `primary`.
  size_t write_red(uint8_t* at, size_t room, std::span<const uint8_t> primary, uint16_t seq, uint32_t ts);
  static constexpr int kRedDistance = 2;
  static constexpr size_t kMaxRedBlock = 1023;  // a block's length has 10 bits
  struct RedBlock {
    std::array<uint8_t, kMaxRedBlock> data;
    uint16_t size = 0;
    uint16_t seq = 0;
    uint32_t ts = 0;
    bool valid = false;
  };
  // Allocated by set_red (never on the media path); a ring whose oldest entry is red_next_.
  std::unique_ptr<std::array<RedBlock, kRedDistance>> red_history_;
  int red_next_ = 0;
  bool send_rtx(const rtc::RtpPacketView& in, uint16_t seq, uint32_t ts);
  static constexpr size_t kMaxExtensionBytes = 8;
  size_t write_transport_sequence(uint8_t* at, uint8_t& first_byte);
  // The timestamp for the first packet after a switch to `layer`: where the old mapping puts
  // that packet's capture time, from both layers' sender reports; nullopt when either layer has
  // not reported yet (then one frame after the last timestamp sent is used).
  std::optional<uint32_t> switch_timestamp(const rtc::RtpPacketView& in, int layer) const;

  rtc::RtpSink& transport_;
  const UpTrack* source_ = nullptr;
  const uint32_t ssrc_;
  const uint8_t payload_type_;
  const bool video_;
  uint32_t rtx_ssrc_ = 0;  // 0: retransmit on the media stream itself
  uint8_t red_payload_type_ = 0;
  uint8_t rtx_payload_type_ = 0;
  uint16_t rtx_seq_ = 0;
  bool started_ = false;
  bool paused_ = false;
  bool hidden_ = false;
  bool rebase_ = true;
  uint16_t seq_delta_ = 0;
  uint32_t ts_delta_ = 0;
  uint16_t last_seq_ = 0;
  uint32_t last_ts_ = 0;
  uint16_t first_mapped_seq_ = 0;  // first sequence number sent under the current mapping
  int layer_ = 0;                  // source layer of the current mapping
  int target_layer_ = -1;
  int max_layer_ = 2;
  int layer_cap_ = 2;
  bool congestion_paused_ = false;
  SendSideBwe* bwe_ = nullptr;
  uint8_t twcc_ext_ = 0;
  uint64_t packets_ = 0;
  uint64_t retransmitted_ = 0;
  uint64_t padding_packets_ = 0;
  uint64_t octets_ = 0;  // payload octets sent (for sender reports)
  std::array<uint8_t, rtc::UdpSocket::kMaxDatagram> retransmit_scratch_{};
  std::array<uint8_t, rtc::UdpSocket::kMaxDatagram> scratch_{};
};

using rtc::vp8_starts_keyframe;

}  // namespace parlor::sfu
