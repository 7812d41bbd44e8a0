#include "rtc/transport/webrtc_transport.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace parlor::rtc {
namespace {

// RFC 7983 + RFC 5761: RTCP packet types 192–223 share the RTP range of first bytes.
bool is_rtcp(std::span<const uint8_t> d) { return d.size() >= 2 && d[1] >= 192 && d[1] <= 223; }

}  // namespace

WebRtcTransport::WebRtcTransport(const DtlsCertificate& certificate, IceCredentials local,
                                 IceLiteAgent::Options ice_options, DatagramSender& sender,
                                 Listener& listener)
    : certificate_(certificate), sender_(sender), listener_(listener), ice_(std::move(local), ice_options) {}

WebRtcTransport::~WebRtcTransport() = default;

void WebRtcTransport::set_remote(const IceCredentials& remote, const std::string& fingerprint) {
  set_remote_ice(remote);
  std::string fp = fingerprint;
  if (auto space = fp.find(' '); space != std::string::npos) fp = fp.substr(space + 1);  // "sha-256 AB:.."
  DtlsTransport::Listener& self = *this;
  dtls_ = std::make_unique<DtlsTransport>(certificate_, DtlsTransport::Role::kServer, fp, self);
  dtls_->start();
}

void WebRtcTransport::restart_ice(IceCredentials new_local, const IceCredentials& remote) {
  ice_.restart(std::move(new_local));
  set_remote_ice(remote);
}

void WebRtcTransport::set_remote_ice(const IceCredentials& remote) {
  remote_ice_ = remote;
  ice_.set_remote(remote);
}

bool WebRtcTransport::knows(const UdpEndpoint& from) const { return ice_.is_validated(stun_address(from)); }

// Media and DTLS go to the pair the client nominated (USE-CANDIDATE); before a nomination, and
// if the nominated address was never seen as a socket endpoint, to the last validated one.
std::optional<UdpEndpoint> WebRtcTransport::destination() const {
  if (auto sel = ice_.selected(); sel && nominated_ && stun_address(*nominated_) == *sel) return nominated_;
  return last_validated_;
}

void WebRtcTransport::on_datagram(std::span<uint8_t> data, const UdpEndpoint& from,
                                  IceLiteAgent::Clock::time_point now) {
  if (data.empty()) return;
  uint8_t first = data[0];
  if (first < 4) {
    size_t n = ice_.handle(data, stun_address(from), now, out_);
    if (n) sender_.send_datagram({out_.data(), n}, from);
    if (ice_.is_validated(stun_address(from))) last_validated_ = from;
    if (auto sel = ice_.selected(); sel && stun_address(from) == *sel) nominated_ = from;
    return;
  }
  // Everything else is accepted only from an address that passed an ICE check, so a forged
  // early ClientHello from elsewhere cannot disturb the session.
  if (!ice_.is_validated(stun_address(from))) {
    if (first >= 20 && first <= 63) ++counters_.dtls_from_unvalidated;
    return;
  }
  if (first >= 20 && first <= 63) {
    if (dtls_) {
      last_media_ = now;
      dtls_->receive(data);
    }
    return;
  }
  if (first >= 128 && first <= 191) {
    if (!srtp_recv_) return;
    size_t len = 0;
    if (is_rtcp(data)) {
      if (srtp_recv_->unprotect_rtcp(data, &len) != SrtpResult::kOk) {
        ++counters_.srtp_errors;
        return;
      }
      last_media_ = now;
      listener_.on_rtcp(data.first(len));
      return;
    }
    if (srtp_recv_->unprotect_rtp(data, &len) != SrtpResult::kOk) {
      ++counters_.srtp_errors;
      return;
    }
    last_media_ = now;
    auto packet = RtpPacketView::parse(data.first(len));
    if (!packet) {
      ++counters_.malformed_rtp;
      return;
    }
    listener_.on_rtp(*packet);
    return;
  }
  ++counters_.unknown_first_byte;
}

std::optional<IceLiteAgent::Clock::time_point> WebRtcTransport::last_received() const {
  auto check = ice_.last_valid_check();
  if (!check) return last_media_;
  if (!last_media_) return check;
  return std::max(*check, *last_media_);
}

bool WebRtcTransport::send_rtp(std::span<const uint8_t> plain) {
  auto to = destination();
  if (!srtp_send_ || !to) return false;
  size_t len = 0;
  if (srtp_send_->protect_rtp(plain, out_, &len) != SrtpResult::kOk) return false;
  sender_.send_datagram({out_.data(), len}, *to);
  return true;
}

bool WebRtcTransport::send_rtcp(std::span<const uint8_t> plain) {
  auto to = destination();
  if (!srtp_send_ || !to) return false;
  size_t len = 0;
  if (srtp_send_->protect_rtcp(plain, out_, &len) != SrtpResult::kOk) return false;
  sender_.send_datagram({out_.data(), len}, *to);
  return true;
}

void WebRtcTransport::on_dtls_send(std::span<const uint8_t> datagram) {
  if (auto to = destination()) sender_.send_datagram(datagram, *to);
}

void WebRtcTransport::on_dtls_connected(const SrtpKeyMaterial& keys) {
  srtp_send_ = std::make_unique<SrtpSession>(keys.profile, SrtpKeys{keys.local_key, keys.local_salt});
  srtp_recv_ = std::make_unique<SrtpSession>(keys.profile, SrtpKeys{keys.remote_key, keys.remote_salt});
  if (sctp_) sctp_->start();
  listener_.on_transport_connected();
}

void WebRtcTransport::enable_sctp(uint16_t remote_port, size_t max_message_size) {
  if (sctp_) return;
  SctpAssociation::Options o;
  o.remote_port = remote_port;
  o.max_message_size = max_message_size;
  o.dtls_client = false;  // we answer a=setup:passive
  o.run_on_owner = [sender = &sender_](std::function<void()> fn) { sender->run_on_owner(std::move(fn)); };
  sctp_ = std::make_unique<SctpAssociation>(o, static_cast<SctpAssociation::Listener&>(*this));
  if (srtp_send_) sctp_->start();
}

std::optional<uint16_t> WebRtcTransport::open_data_channel(const std::string& label,
                                                           const SctpAssociation::ChannelOptions& options) {
  if (!sctp_) return std::nullopt;
  return sctp_->open_channel(label, options);
}

bool WebRtcTransport::send_data(uint16_t stream, std::span<const uint8_t> data, bool binary) {
  return sctp_ && sctp_->send(stream, data, binary);
}

void WebRtcTransport::on_timer() {
  if (srtp_send_) {
    listener_.on_transport_timer(std::chrono::steady_clock::now());
    return;
  }
  if (!dtls_) return;
  if (auto due = dtls_->next_timeout(); due && due->count() <= 0) dtls_->handle_timeout();
}

void WebRtcTransport::on_dtls_data(std::span<const uint8_t> data) {
  if (sctp_) sctp_->receive(data);
}

void WebRtcTransport::on_sctp_send(std::span<const uint8_t> packet) {
  if (dtls_) dtls_->send(packet);
}

void WebRtcTransport::on_channel_open(uint16_t stream, const std::string& label, const std::string&) {
  listener_.on_data_channel_open(stream, label);
}

void WebRtcTransport::on_channel_message(uint16_t stream, std::span<const uint8_t> data, bool binary) {
  listener_.on_data_message(stream, data, binary);
}

void WebRtcTransport::on_channel_closed(uint16_t stream) { listener_.on_data_channel_closed(stream); }

void WebRtcTransport::on_dtls_closed(DtlsTransport::State, const std::string& reason) {
  listener_.on_transport_closed(reason);
}

}  // namespace parlor::rtc
