#include "load/client_transport.hpp"

#include <openssl/rand.h>

#include "common/boundary.hpp"
#include "rtc/stun/stun_message.hpp"

namespace parlor::load {

namespace {
// Checks until the server answers, then consent refreshes (RFC 7675 §5.1: every 5 s on
// average; the server's consent timeout is far longer).
constexpr auto kCheckInterval = std::chrono::milliseconds(50);
constexpr auto kConsentInterval = std::chrono::seconds(2);
// RFC 8445 §5.1.2.1 for a host candidate: type preference 126, local preference 65535.
constexpr uint32_t kPriority = (126u << 24) | (65535u << 8) | 255u;
constexpr int kSocketBuffer = 1 << 20;

std::string random_ice(size_t n) {
  static constexpr std::string_view kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::array<uint8_t, 64> b{};
  RAND_bytes(b.data(), static_cast<int>(n));
  std::string s;
  for (size_t i = 0; i < n; ++i) s += kChars[b[i] % kChars.size()];
  return s;
}
}  // namespace

ClientTransport::ClientTransport(boost::asio::io_context& io,
                                 const rtc::DtlsCertificate& certificate, Owner& owner)
    : certificate_(certificate), owner_(owner), socket_(io) {
  local_ufrag_ = random_ice(8);
  local_pwd_ = random_ice(24);
  RAND_bytes(reinterpret_cast<uint8_t*>(&tie_breaker_), sizeof(tie_breaker_));
}

ClientTransport::~ClientTransport() {
  close();
}

void ClientTransport::start(const boost::asio::ip::udp::endpoint& remote, std::string remote_ufrag,
                            std::string remote_pwd, std::string remote_fingerprint,
                            rtc::DtlsTransport::Role role) {
  if (started_) return;
  started_ = true;
  remote_ = remote;
  remote_ufrag_ = std::move(remote_ufrag);
  remote_pwd_ = std::move(remote_pwd);
  boost::system::error_code ec;
  socket_.open(remote.protocol(), ec);
  if (!ec) socket_.bind({remote.address(), 0}, ec);
  if (ec) return owner_.on_failed("UDP socket: " + ec.message());
  socket_.set_option(boost::asio::socket_base::receive_buffer_size(kSocketBuffer), ec);
  socket_.set_option(boost::asio::socket_base::send_buffer_size(kSocketBuffer), ec);
  socket_.non_blocking(true, ec);
  dtls_ = std::make_unique<rtc::DtlsTransport>(certificate_, role, std::move(remote_fingerprint),
                                               static_cast<rtc::DtlsTransport::Listener&>(*this));
  // A DTLS server is ready for the peer's ClientHello at once (it may come with the first check's
  // answer); a client starts once ICE answers.
  if (role == rtc::DtlsTransport::Role::kServer) dtls_->start();
  receive();
  send_check(Clock::now());
}

std::optional<boost::asio::ip::udp::endpoint> ClientTransport::local_endpoint() const {
  boost::system::error_code ec;
  auto e = socket_.local_endpoint(ec);
  if (ec) return std::nullopt;
  return e;
}

void ClientTransport::receive() {
  if (closed_) return;
  socket_.async_receive_from(
      boost::asio::buffer(rx_), from_, [this](boost::system::error_code ec, size_t n) {
        if (ec == boost::asio::error::operation_aborted || closed_) return;
        if (!ec) {
          if (auto caught = guarded([&] { on_datagram(std::span(rx_.data(), n)); })) {
            owner_.on_failed("transport: " + caught->message);
            return;
          }
        }
        receive();
      });
}

void ClientTransport::on_datagram(std::span<uint8_t> data) {
  if (data.empty()) return;
  uint8_t first = data[0];
  if (first < 2) {  // STUN (RFC 7983)
    auto m = rtc::StunMessageView::parse(data);
    if (!m || m->method() != rtc::kStunBindingMethod) return;
    if (m->message_class() == rtc::StunClass::kRequest) {
      answer_check(*m);
      return;
    }
    if (m->message_class() == rtc::StunClass::kSuccess && m->check_integrity(remote_pwd_)) {
      if (!ice_ok_) {
        ice_ok_ = true;
        next_check_ = Clock::now() + kConsentInterval;
        if (dtls_->role() == rtc::DtlsTransport::Role::kClient) dtls_->start();
      }
    } else if (m->message_class() == rtc::StunClass::kError) {
      owner_.on_failed("ICE: the server refused our check (error " +
                       std::to_string(m->error_code().value_or(0)) + ")");
    }
    return;
  }
  if (first >= 20 && first <= 63) {  // DTLS
    if (dtls_) dtls_->receive(data);
    return;
  }
  if (first < 128 || first > 191 || !srtp_recv_ || data.size() < 2) return;
  uint8_t pt = data[1];
  if (pt >= 192 && pt <= 223) {  // RTCP (RFC 5761 §4)
    size_t len = 0;
    if (srtp_recv_->unprotect_rtcp(data, &len) != rtc::SrtpResult::kOk) {
      ++counters_.srtp_errors;
      return;
    }
    owner_.on_rtcp(data.first(len));
    return;
  }
  size_t len = 0;
  if (srtp_recv_->unprotect_rtp(data, &len) != rtc::SrtpResult::kOk) {
    ++counters_.srtp_errors;
    return;
  }
  auto view = rtc::RtpPacketView::parse(data.first(len));
  if (view) owner_.on_rtp(*view, data.size());
}

// A full-ICE server (Janus's libnice, even in its ICE-lite setting) sends triggered checks and
// nominates our pair only once we answered one: a success response with our password.
void ClientTransport::answer_check(const rtc::StunMessageView& m) {
  if (m.username().substr(0, m.username().find(':')) != local_ufrag_ ||
      !m.check_integrity(local_pwd_))
    return;
  rtc::StunAddress from;
  const auto& a = from_.address();
  from.port = from_.port();
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), from.ip.begin());
  } else {
    from.ipv6 = true;
    auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), from.ip.begin());
  }
  std::array<uint8_t, 128> buf{};
  rtc::StunMessageBuilder b(buf, rtc::kStunBindingMethod, rtc::StunClass::kSuccess,
                            m.transaction_id());
  if (!b.add_xor_mapped_address(from) || !b.add_integrity(local_pwd_) || !b.add_fingerprint() ||
      !b.ok())
    return;
  send_datagram(b.bytes());
}

void ClientTransport::send_check(Clock::time_point now) {
  std::array<uint8_t, 12> txid{};
  RAND_bytes(txid.data(), txid.size());
  std::array<uint8_t, 256> buf{};
  rtc::StunMessageBuilder b(buf, rtc::kStunBindingMethod, rtc::StunClass::kRequest, txid);
  b.add_string(rtc::stun_attr::kUsername, remote_ufrag_ + ":" + local_ufrag_);
  b.add_u32(rtc::stun_attr::kPriority, kPriority);
  b.add_u64(rtc::stun_attr::kIceControlling, tie_breaker_);
  b.add_attribute(rtc::stun_attr::kUseCandidate, {});
  b.add_integrity(remote_pwd_);
  b.add_fingerprint();
  if (!b.ok()) return;
  ++counters_.stun_checks;
  send_datagram(b.bytes());
  next_check_ = now + (ice_ok_ ? std::chrono::duration_cast<Clock::duration>(kConsentInterval)
                               : kCheckInterval);
}

void ClientTransport::tick(Clock::time_point now) {
  if (!started_ || closed_) return;
  if (now >= next_check_) send_check(now);
  if (dtls_ && dtls_->state() == rtc::DtlsTransport::State::kConnecting) {
    if (auto t = dtls_->next_timeout()) {
      if (!dtls_timer_armed_) {
        dtls_deadline_ = now + *t;
        dtls_timer_armed_ = true;
      } else if (now >= dtls_deadline_) {
        dtls_timer_armed_ = false;
        dtls_->handle_timeout();
      }
    }
  }
}

void ClientTransport::send_datagram(std::span<const uint8_t> data) {
  if (closed_ || !socket_.is_open()) return;
  boost::system::error_code ec;
  socket_.send_to(boost::asio::buffer(data.data(), data.size()), remote_, 0, ec);
  if (ec) ++counters_.send_errors;
}

bool ClientTransport::send_rtp(std::span<const uint8_t> plain) {
  if (!srtp_send_) return false;
  size_t len = 0;
  if (srtp_send_->protect_rtp(plain, tx_, &len) != rtc::SrtpResult::kOk) return false;
  send_datagram({tx_.data(), len});
  return true;
}

bool ClientTransport::send_rtcp(std::span<const uint8_t> plain) {
  if (!srtp_send_) return false;
  size_t len = 0;
  if (srtp_send_->protect_rtcp(plain, tx_, &len) != rtc::SrtpResult::kOk) return false;
  send_datagram({tx_.data(), len});
  return true;
}

void ClientTransport::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.close(ec);
}

void ClientTransport::on_dtls_send(std::span<const uint8_t> datagram) {
  dtls_timer_armed_ = false;
  send_datagram(datagram);
}

void ClientTransport::on_dtls_connected(const rtc::SrtpKeyMaterial& keys) {
  srtp_send_ = std::make_unique<rtc::SrtpSession>(keys.profile,
                                                  rtc::SrtpKeys{keys.local_key, keys.local_salt});
  srtp_recv_ = std::make_unique<rtc::SrtpSession>(keys.profile,
                                                  rtc::SrtpKeys{keys.remote_key, keys.remote_salt});
  owner_.on_connected(keys.profile);
}

void ClientTransport::on_dtls_closed(rtc::DtlsTransport::State state, const std::string& reason) {
  if (state == rtc::DtlsTransport::State::kFailed) owner_.on_failed("DTLS: " + reason);
}

}  // namespace parlor::load
