#pragma once
// One peer connection's transport on a media worker: ICE-lite, DTLS-SRTP and SRTP/SRTCP over
// the worker's shared UDP socket (RFC 7983 first-byte demultiplexing), and SCTP data channels
// over the DTLS association when the SDP negotiated them.
//
// Threading and lifetime: created, fed and destroyed on the worker's thread. The Sender and
// Listener must outlive the transport. Packet spans given to the listener are valid only during
// the call (they point into the socket's receive buffer).
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "rtc/dtls/dtls_transport.hpp"
#include "rtc/ice/ice_lite_agent.hpp"
#include "rtc/net/udp_socket.hpp"
#include "rtc/rtp/rtp_packet.hpp"
#include "rtc/sctp/sctp_association.hpp"
#include "rtc/srtp/srtp_session.hpp"

namespace parlor::rtc {

class DatagramSender {
 public:
  virtual ~DatagramSender() = default;
  virtual void send_datagram(std::span<const uint8_t> data, const UdpEndpoint& to) = 0;
  // Runs fn later on the thread that owns the transports sending through here (the media
  // worker's): for what usrsctp raises on another thread (its timers run on one worker for
  // all). The default, for single-threaded senders (tests), runs it at once.
  virtual void run_on_owner(std::function<void()> fn) { fn(); }
};

// Where forwarded RTP goes: a transport, or a recorder/test sink. Plain packets; the sink
// protects and sends. False when the packet was not sent.
class RtpSink {
 public:
  virtual ~RtpSink() = default;
  virtual bool send_rtp(std::span<const uint8_t> plain) = 0;
};

class WebRtcTransport : public RtpSink, private DtlsTransport::Listener, private SctpAssociation::Listener {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_transport_connected() = 0;
    virtual void on_transport_closed(const std::string& reason) = 0;
    virtual void on_rtp(RtpPacketView& packet) = 0;
    virtual void on_rtcp(std::span<const uint8_t> compound) = 0;
    // Data channels (only after enable_sctp). Spans are valid during the call.
    virtual void on_data_channel_open(uint16_t /*stream*/, const std::string& /*label*/) {}
    virtual void on_data_message(uint16_t /*stream*/, std::span<const uint8_t> /*data*/, bool /*binary*/) {}
    virtual void on_data_channel_closed(uint16_t /*stream*/) {}
    // The worker's timer (every ~10 ms) once media can flow: pacing (bandwidth probes).
    virtual void on_transport_timer(std::chrono::steady_clock::time_point /*now*/) {}
  };

  struct Counters {
    uint64_t srtp_errors = 0;
    uint64_t dtls_from_unvalidated = 0;
    uint64_t malformed_rtp = 0;
    uint64_t unknown_first_byte = 0;
  };

  WebRtcTransport(const DtlsCertificate& certificate, IceCredentials local,
                  IceLiteAgent::Options ice_options, DatagramSender& sender, Listener& listener);
  ~WebRtcTransport() override;

  // From the peer's SDP (we answer a=setup:passive, so the peer is the DTLS client).
  void set_remote(const IceCredentials& remote, const std::string& fingerprint);
  const IceCredentials& local_ice() const { return ice_.local(); }
  // ICE restart (the peer offered new credentials): new local credentials too; DTLS and SRTP
  // carry on. Media continues to the last validated address until new checks arrive.
  void restart_ice(IceCredentials new_local, const IceCredentials& remote);
  // The peer's ICE credentials after a restart we offered (they come in its answer).
  void set_remote_ice(const IceCredentials& remote);
  const IceCredentials& remote_ice() const { return remote_ice_; }

  // A datagram routed to this transport (by ufrag or by a validated address).
  void on_datagram(std::span<uint8_t> data, const UdpEndpoint& from, IceLiteAgent::Clock::time_point now);
  // Protects and sends; false if not connected or the packet is malformed.
  bool send_rtp(std::span<const uint8_t> plain) override;
  bool send_rtcp(std::span<const uint8_t> plain);

  bool connected() const { return srtp_send_ != nullptr; }

  // Data channels: the SDP accepted an m=application section. Starts with DTLS (or at once if
  // DTLS is already up). `max_message_size` is the smaller of ours and the peer's.
  void enable_sctp(uint16_t remote_port, size_t max_message_size);
  bool sctp_enabled() const { return sctp_ != nullptr; }
  std::optional<uint16_t> open_data_channel(const std::string& label, const SctpAssociation::ChannelOptions& options);
  bool send_data(uint16_t stream, std::span<const uint8_t> data, bool binary);
  // Retransmissions of the DTLS handshake, then (connected) the listener's timer; call from the
  // worker's timer.
  void on_timer();
  bool knows(const UdpEndpoint& from) const;
  // Where media and DTLS go: the socket address of the pair the client nominated, or before a
  // nomination the last address an ICE check validated.
  std::optional<UdpEndpoint> destination() const;
  IceLiteAgent::State ice_state(IceLiteAgent::Clock::time_point now) const { return ice_.state(now); }
  // When the peer was last heard: the latest ICE check that passed integrity, DTLS record from a
  // validated address, or SRTP/SRTCP packet that authenticated (nullopt: nothing yet). A
  // timestamp per packet, no clock read: `now` comes with the datagram.
  std::optional<IceLiteAgent::Clock::time_point> last_received() const;
  const Counters& counters() const { return counters_; }
  const IceLiteAgent::Counters& ice_counters() const { return ice_.counters(); }

 private:
  // DtlsTransport::Listener
  void on_dtls_send(std::span<const uint8_t> datagram) override;
  void on_dtls_connected(const SrtpKeyMaterial& keys) override;
  void on_dtls_data(std::span<const uint8_t> data) override;
  void on_dtls_closed(DtlsTransport::State state, const std::string& reason) override;

  // SctpAssociation::Listener
  void on_sctp_send(std::span<const uint8_t> packet) override;
  void on_sctp_connected() override {}
  void on_sctp_closed() override {}
  void on_channel_open(uint16_t stream, const std::string& label, const std::string& protocol) override;
  void on_channel_message(uint16_t stream, std::span<const uint8_t> data, bool binary) override;
  void on_channel_closed(uint16_t stream) override;

  const DtlsCertificate& certificate_;
  DatagramSender& sender_;
  Listener& listener_;
  IceLiteAgent ice_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SrtpSession> srtp_send_, srtp_recv_;
  std::unique_ptr<SctpAssociation> sctp_;
  IceCredentials remote_ice_;
  std::optional<UdpEndpoint> last_validated_;
  std::optional<UdpEndpoint> nominated_;  // the socket address of ICE's selected pair
  std::optional<IceLiteAgent::Clock::time_point> last_media_;  // last DTLS/SRTP/SRTCP accepted
  std::array<uint8_t, UdpSocket::kMaxDatagram + 64> out_{};
  Counters counters_;
};

}  // namespace parlor::rtc
