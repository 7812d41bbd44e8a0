#pragma once
// The client side of one peer connection for `parlor load`: its own UDP socket, ICE as the
// controlling agent against an ICE-lite server (RFC 8445 §7.2.5: Binding requests with USERNAME,
// PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY and FINGERPRINT; repeated every
// few seconds afterwards as consent freshness, RFC 7675), the DTLS client (a=setup:active), and
// SRTP/SRTCP with the exported keys. RFC 7983 demultiplexing on receive.
//
// Threading: one generator thread (the io_context it was made with). Lifetime: the owner
// outlives the transport and the io_context's run; close() before destruction. Spans handed to
// the owner are valid during the call only.
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "rtc/dtls/dtls_transport.hpp"
#include "rtc/rtp/rtp_packet.hpp"
#include "rtc/srtp/srtp_session.hpp"
#include "rtc/stun/stun_message.hpp"

namespace parlor::load {

class ClientTransport : private rtc::DtlsTransport::Listener {
 public:
  using Clock = std::chrono::steady_clock;

  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void on_connected(rtc::SrtpProfile profile) = 0;
    virtual void on_rtp(rtc::RtpPacketView& packet, size_t datagram_bytes) = 0;
    virtual void on_rtcp(std::span<const uint8_t> compound) = 0;
    virtual void on_failed(const std::string& reason) = 0;
  };

  struct Counters {
    uint64_t srtp_errors = 0;
    uint64_t send_errors = 0;
    uint64_t stun_checks = 0;
  };

  ClientTransport(boost::asio::io_context& io, const rtc::DtlsCertificate& certificate,
                  Owner& owner);
  ~ClientTransport() override;

  const std::string& local_ufrag() const { return local_ufrag_; }
  const std::string& local_pwd() const { return local_pwd_; }

  // Starts ICE towards the server's candidate with its credentials, then DTLS in `role`
  // (client for a=setup:active on our side, server when the remote took active).
  void start(const boost::asio::ip::udp::endpoint& remote, std::string remote_ufrag,
             std::string remote_pwd, std::string remote_fingerprint,
             rtc::DtlsTransport::Role role = rtc::DtlsTransport::Role::kClient);
  bool started() const { return started_; }
  // Our socket's address once started (for trickling it to a full-ICE server).
  std::optional<boost::asio::ip::udp::endpoint> local_endpoint() const;
  bool connected() const { return srtp_send_ != nullptr; }

  // Called by the owner's timer (every few ms): STUN checks, DTLS retransmission.
  void tick(Clock::time_point now);

  // Protect and send one RTP / RTCP packet; false if not connected or sending failed.
  bool send_rtp(std::span<const uint8_t> plain);
  bool send_rtcp(std::span<const uint8_t> plain);
  void close();

  const Counters& counters() const { return counters_; }

 private:
  void receive();
  void on_datagram(std::span<uint8_t> data);
  void send_check(Clock::time_point now);
  void answer_check(const rtc::StunMessageView& m);
  void send_datagram(std::span<const uint8_t> data);

  // DtlsTransport::Listener
  void on_dtls_send(std::span<const uint8_t> datagram) override;
  void on_dtls_connected(const rtc::SrtpKeyMaterial& keys) override;
  void on_dtls_data(std::span<const uint8_t>) override {}
  void on_dtls_closed(rtc::DtlsTransport::State state, const std::string& reason) override;

  // Passed in.
  const rtc::DtlsCertificate& certificate_;
  Owner& owner_;
  // Owned.
  boost::asio::ip::udp::socket socket_;
  std::unique_ptr<rtc::DtlsTransport> dtls_;
  std::unique_ptr<rtc::SrtpSession> srtp_send_, srtp_recv_;
  // State.
  std::string local_ufrag_, local_pwd_;
  std::string remote_ufrag_, remote_pwd_;
  boost::asio::ip::udp::endpoint remote_, from_;
  uint64_t tie_breaker_ = 0;
  bool started_ = false;
  bool ice_ok_ = false;
  bool closed_ = false;
  Clock::time_point next_check_{};
  Clock::time_point dtls_deadline_{};
  bool dtls_timer_armed_ = false;
  Counters counters_;
  std::array<uint8_t, 2048> rx_{};
  std::array<uint8_t, 2048> tx_{};
};

}  // namespace parlor::load
