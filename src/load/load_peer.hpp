#pragma once
// One simulated LiveKit participant of `parlor load`, on our own transport (no browser, no
// libwebrtc): the v0 two-PeerConnection protocol over a Boost.Beast WebSocket (spec §2–§4,
// `/rtc`, subscriber primary), and one ClientTransport for the connection it uses.
//  * A publisher announces an audio track and (unless audio-only) a VP8 video track with three
//    simulcast layers q/h/f (AddTrackRequest), offers them on its publisher connection, and once
//    DTLS is up sends pre-encoded media at real rates (load/synthetic_media.hpp): keyframes every
//    few seconds and on PLI/FIR, NACKs answered from a small cache, sender reports every second.
//    It ignores the server's subscriber offer (it may not subscribe).
//  * A subscriber answers the server's offers on its subscriber connection (recvonly, no data
//    channels), and keeps the books of every stream it receives (load/accounting.hpp); it sends
//    receiver reports and, when its answer negotiated the extension, transport-cc feedback.
//
// Threading: everything on one generator thread's io_context. Lifetime: owned by that thread's
// list, destroyed after its io_context stopped running.
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "livekit_rtc.pb.h"
#include "load/accounting.hpp"
#include "load/client_transport.hpp"

namespace parlor::load {

struct MediaOptions {
  bool audio_only = false;
  bool simulcast = true;
  bool transport_cc = true;  // subscribers negotiate transport-cc and send feedback
  int fps = 30;
  std::array<int64_t, 3> layer_bps{150'000, 500'000, 1'700'000};
  std::array<uint16_t, 3> layer_width{320, 640, 1280};
  std::array<uint16_t, 3> layer_height{180, 360, 720};
  int64_t audio_bps = 40'000;
  std::chrono::milliseconds keyframe_interval{3000};
};

// Counters a generator thread's peers add to; the main thread reads them for the progress line.
struct LiveCounters {
  std::atomic<uint64_t> joined{0}, media_ready{0}, failed{0};
  std::atomic<uint64_t> rx_packets{0}, rx_bytes{0}, tx_packets{0}, tx_bytes{0};
  std::atomic<uint64_t> rx_lost{0};  // gaps seen (never decremented: a progress hint only)
};

// What every peer of one generator thread shares.
struct GeneratorContext {
  boost::asio::io_context& io;
  const rtc::DtlsCertificate& certificate;
  boost::asio::ip::tcp::endpoint server;
  std::string host_header;  // "host:port" for the upgrade request
  MediaOptions media;
  LiveCounters& live;
  const std::atomic<bool>& media_stopped;  // publishers stop sending
  const std::atomic<bool>& books_closed;   // subscribers stop counting
};

// A subscriber's view of one stream it received.
struct StreamResult {
  uint32_t ssrc = 0;
  bool video = false;
  std::optional<uint32_t> track;  // from the tags
  std::optional<PacketTag> last_tag;
  StreamCounters counters;
  double jitter_ms = 0;
  bool balanced = true;
};

// A publisher's sent packets for one track: per layer (audio: layer 0), the next index.
struct TrackSent {
  uint32_t track = 0;
  bool video = false;
  std::array<uint32_t, 3> packets{};  // == next index of the layer
  std::array<uint64_t, 3> bytes{};
};

struct PeerResult {
  bool publisher = false;
  std::string room, identity;
  std::optional<double> join_ms;   // WebSocket connect started → JoinResponse
  std::optional<double> media_ms;  // WebSocket connect started → media flowing
  std::string error;
  std::string srtp_profile;
  std::vector<StreamResult> streams;  // subscribers
  std::vector<TrackSent> sent;        // publishers
  uint64_t plis = 0, nacks = 0, retransmitted = 0, srtp_errors = 0, feedbacks_sent = 0;
};

class LoadPeer : private ClientTransport::Owner {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Role { kPublisher, kSubscriber };

  // `publisher_index`: global, for the track keys (index × 2 + 0 audio / 1 video).
  LoadPeer(GeneratorContext& ctx, Role role, std::string room, std::string identity,
           std::string token, uint32_t publisher_index);
  ~LoadPeer() override;

  void start();
  // Every few ms: media pacing, RTCP, ICE/DTLS timers.
  void tick(Clock::time_point now);
  // Sends leave and closes the WebSocket and the transport.
  void leave();

  // External signalling (Janus VideoRoom, load/janus_signaling.hpp) instead of the LiveKit
  // WebSocket: the caller carries the SDP; all on this peer's generator thread.
  void start_external();
  void external_joined();
  std::string external_offer();                                   // publisher
  void external_answer(const std::string& answer_sdp);            // publisher
  std::string external_offer_answered(const std::string& offer);  // subscriber: our answer
  void external_failed(const std::string& why);
  // "candidate:..." for our socket once the transport started (empty before).
  std::string external_candidate() const;

  bool joined() const { return join_ms_.has_value(); }
  bool media_flowing() const { return media_ms_.has_value(); }
  bool failed() const { return !error_.empty(); }
  PeerResult result() const;

 private:
  struct Layer;  // one outgoing RTP stream (audio, or a video layer)
  struct Twcc;   // transport-cc feedback state of a subscriber

  // Signaling.
  void read();
  void send(const livekit::SignalRequest& req);
  void write_next();
  void on_signal(const livekit::SignalResponse& r);
  void on_join(const livekit::JoinResponse& join);
  void publish();
  std::string publisher_offer();
  std::string subscriber_answer(const std::string& offer_sdp);
  void on_answer(const livekit::SessionDescription& sd);
  void on_offer(const livekit::SessionDescription& sd);
  void start_transport(const std::string& sdp_text);
  void fail(const std::string& why);
  double since_start_ms(Clock::time_point t) const;

  // Media.
  void send_video_frame(Layer& layer, Clock::time_point now);
  void send_audio_packet(Layer& layer);
  void send_packet(Layer& layer, std::span<uint8_t> packet);
  void retransmit(uint32_t ssrc, uint16_t sequence);
  void send_sender_reports(Clock::time_point now);
  void send_receiver_reports();
  void send_transport_feedback(Clock::time_point now);

  // ClientTransport::Owner
  void on_connected(rtc::SrtpProfile profile) override;
  void on_rtp(rtc::RtpPacketView& packet, size_t datagram_bytes) override;
  void on_rtcp(std::span<const uint8_t> compound) override;
  void on_failed(const std::string& reason) override;

  // Passed in.
  GeneratorContext& ctx_;
  const Role role_;
  const std::string room_, identity_, token_;
  const uint32_t publisher_index_;
  // Owned.
  std::unique_ptr<boost::beast::websocket::stream<boost::beast::tcp_stream>> ws_;
  std::unique_ptr<ClientTransport> transport_;
  std::vector<std::unique_ptr<Layer>> layers_;  // publisher: audio, then video q/h/f
  std::unique_ptr<Twcc> twcc_;
  std::unordered_map<uint32_t, StreamAccount> streams_;  // subscriber: by SSRC
  std::unordered_map<uint32_t, bool> video_ssrc_;        // subscriber: SSRC → video, from offers
  std::unordered_map<uint8_t, bool> video_pt_;           // subscriber: payload type → video
  // State.
  boost::beast::flat_buffer read_buffer_;
  std::deque<std::string> write_queue_;
  bool writing_ = false;
  bool leaving_ = false;
  bool external_ = false;
  Clock::time_point started_at_{};
  std::optional<double> join_ms_, media_ms_;
  std::string error_;
  std::string srtp_profile_;
  int twcc_ext_ = 0;  // subscriber: the id the server's offer gave transport-cc (0: not used)
  uint16_t transport_sequence_ = 0;
  uint32_t rtcp_ssrc_ = 0;
  std::chrono::seconds ping_interval_{5};
  Clock::time_point next_ping_{}, next_report_{}, next_feedback_{};
  Clock::time_point media_epoch_{};
  uint64_t plis_ = 0, nacks_ = 0, retransmitted_ = 0, feedbacks_sent_ = 0;
  std::array<uint8_t, 1500> packet_{};
};

}  // namespace parlor::load
