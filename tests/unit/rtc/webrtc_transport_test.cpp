// WebRtcTransport's choice of destination: media goes to the pair the client nominated, not to
// whichever validated address sent the latest check (RFC 8445 §8.1.1: the nominated pair is the
// one used; a consent check on another pair must not move media), and when the peer was last
// heard.
#include "rtc/transport/webrtc_transport.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "rtc/ice_checks.hpp"

namespace parlor::rtc {
namespace {

class NullSender : public DatagramSender {
 public:
  void send_datagram(std::span<const uint8_t>, const UdpEndpoint&) override { ++sent; }
  int sent = 0;
};

class NullListener : public WebRtcTransport::Listener {
 public:
  void on_transport_connected() override {}
  void on_transport_closed(const std::string&) override {}
  void on_rtp(RtpPacketView&) override {}
  void on_rtcp(std::span<const uint8_t>) override {}
};

std::vector<uint8_t> check(const std::string& username, const std::string& pwd, bool nominate,
                           uint8_t seed) {
  return test_support::ice_check(username, pwd, nominate, seed);
}

// A transport with remote credentials set and no packets yet; checks come from "cli".
struct TransportFixture {
  TransportFixture() { t.set_remote({"cli", "client-password"}, cert->fingerprint()); }
  decltype(DtlsCertificate::generate()) cert = DtlsCertificate::generate();
  NullSender sender;
  NullListener listener;
  const IceCredentials local{"srvufrag", "server-password-0123456789"};
  WebRtcTransport t{*cert, local, {}, sender, listener};
};

TEST(WebRtcTransport, MediaGoesToTheNominatedPairNotTheLatestCheck) {
  TransportFixture f;
  auto& [cert, sender, listener, local, t] = f;
  EXPECT_FALSE(t.destination());

  auto now = IceLiteAgent::Clock::now();
  auto a = UdpEndpoint::from("127.0.0.1", 40001);
  auto b = UdpEndpoint::from("127.0.0.2", 40002);
  auto plain_a = check("srvufrag:cli", local.pwd, false, 1);
  t.on_datagram(plain_a, a, now);
  ASSERT_TRUE(t.destination());
  EXPECT_EQ(*t.destination(), a);  // validated, nothing nominated yet

  auto nominate_b = check("srvufrag:cli", local.pwd, true, 2);
  t.on_datagram(nominate_b, b, now);
  EXPECT_EQ(*t.destination(), b);

  // A later check on the other (validated, not nominated) pair leaves media where it was.
  auto again_a = check("srvufrag:cli", local.pwd, false, 3);
  t.on_datagram(again_a, a, now);
  EXPECT_EQ(*t.destination(), b);
  EXPECT_EQ(sender.sent, 3);  // each check was answered, at its own source
}

// Issue 13: the time the peer was last heard counts only what passes the transport's checks.
TEST(WebRtcTransport, LastReceivedCountsOnlyPacketsThatPassTheChecks) {
  TransportFixture f;
  auto& [cert, sender, listener, local, t] = f;
  EXPECT_FALSE(t.last_received());

  auto t0 = IceLiteAgent::Clock::now();
  auto a = UdpEndpoint::from("127.0.0.1", 40001);
  auto stranger = UdpEndpoint::from("127.0.0.9", 40009);
  auto wrong_password = check("srvufrag:cli", "not-the-password-at-all", false, 1);
  t.on_datagram(wrong_password, a, t0);
  EXPECT_FALSE(t.last_received());
  std::vector<uint8_t> srtp_like(40, 0);
  srtp_like[0] = 0x80;  // RTP from an address no check validated
  t.on_datagram(srtp_like, stranger, t0);
  std::vector<uint8_t> dtls_like(40, 0);
  dtls_like[0] = 22;  // a DTLS record from it
  t.on_datagram(dtls_like, stranger, t0);
  EXPECT_FALSE(t.last_received());

  auto good = check("srvufrag:cli", local.pwd, true, 2);
  t.on_datagram(good, a, t0 + std::chrono::seconds(1));
  ASSERT_TRUE(t.last_received());
  EXPECT_EQ(*t.last_received(), t0 + std::chrono::seconds(1));

  // RTP before DTLS-SRTP is up cannot authenticate: not counted.
  t.on_datagram(srtp_like, a, t0 + std::chrono::seconds(2));
  EXPECT_EQ(*t.last_received(), t0 + std::chrono::seconds(1));
  // A DTLS record from the validated address is the peer speaking.
  t.on_datagram(dtls_like, a, t0 + std::chrono::seconds(3));
  EXPECT_EQ(*t.last_received(), t0 + std::chrono::seconds(3));
  // A bad check later does not refresh it.
  auto bad_again = check("srvufrag:cli", "not-the-password-at-all", false, 3);
  t.on_datagram(bad_again, a, t0 + std::chrono::seconds(4));
  EXPECT_EQ(*t.last_received(), t0 + std::chrono::seconds(3));
}

}  // namespace
}  // namespace parlor::rtc
