// Two DtlsTransports handshake in process over in-memory "wires".
#include "rtc/dtls/dtls_transport.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <vector>

namespace parlor::rtc {
namespace {

struct Endpoint : DtlsTransport::Listener {
  std::deque<std::vector<uint8_t>>* wire = nullptr;  // datagrams towards the other side
  std::optional<SrtpKeyMaterial> keys;
  std::vector<std::string> data;
  std::string closed_reason;
  DtlsTransport::State closed_state = DtlsTransport::State::kNew;
  void on_dtls_send(std::span<const uint8_t> d) override { wire->emplace_back(d.begin(), d.end()); }
  void on_dtls_connected(const SrtpKeyMaterial& k) override { keys = k; }
  void on_dtls_data(std::span<const uint8_t> d) override { data.emplace_back(d.begin(), d.end()); }
  void on_dtls_closed(DtlsTransport::State s, const std::string& r) override {
    closed_state = s;
    closed_reason = r;
  }
};

struct Pair {
  std::shared_ptr<DtlsCertificate> cert_a = DtlsCertificate::generate();
  std::shared_ptr<DtlsCertificate> cert_b = DtlsCertificate::generate();
  std::deque<std::vector<uint8_t>> a_to_b, b_to_a;
  Endpoint a, b;
  std::unique_ptr<DtlsTransport> ta, tb;

  explicit Pair(bool right_fingerprint = true) {
    a.wire = &a_to_b;
    b.wire = &b_to_a;
    ta = std::make_unique<DtlsTransport>(*cert_a, DtlsTransport::Role::kClient,
                                         right_fingerprint ? cert_b->fingerprint() : cert_a->fingerprint(), a);
    tb = std::make_unique<DtlsTransport>(*cert_b, DtlsTransport::Role::kServer, cert_a->fingerprint(), b);
  }
  // Delivers queued datagrams until both wires are empty.
  void pump() {
    for (int i = 0; i < 100 && (!a_to_b.empty() || !b_to_a.empty()); ++i) {
      while (!a_to_b.empty()) {
        auto d = std::move(a_to_b.front());
        a_to_b.pop_front();
        tb->receive(d);
      }
      while (!b_to_a.empty()) {
        auto d = std::move(b_to_a.front());
        b_to_a.pop_front();
        ta->receive(d);
      }
    }
  }
};

TEST(Dtls, FingerprintHasSdpShape) {
  auto c = DtlsCertificate::generate();
  EXPECT_EQ(c->fingerprint().size(), 32u * 3 - 1);
  EXPECT_EQ(c->fingerprint()[2], ':');
  EXPECT_NE(DtlsCertificate::generate()->fingerprint(), c->fingerprint());
  EXPECT_EQ(normalize_fingerprint("ab:cd:EF"), "ABCDEF");
}

TEST(Dtls, HandshakeExportsMatchingSrtpKeysThatWork) {
  Pair p;
  p.tb->start();
  p.ta->start();
  p.pump();
  ASSERT_EQ(p.ta->state(), DtlsTransport::State::kConnected) << p.a.closed_reason;
  ASSERT_EQ(p.tb->state(), DtlsTransport::State::kConnected) << p.b.closed_reason;
  ASSERT_TRUE(p.a.keys && p.b.keys);
  EXPECT_EQ(p.a.keys->profile, SrtpProfile::kAeadAes128Gcm);  // preferred when both offer it
  EXPECT_EQ(p.a.keys->local_key, p.b.keys->remote_key);
  EXPECT_EQ(p.a.keys->local_salt, p.b.keys->remote_salt);
  EXPECT_EQ(p.a.keys->remote_key, p.b.keys->local_key);
  EXPECT_NE(p.a.keys->local_key, p.a.keys->remote_key);
  // The exported keys interoperate through our SRTP.
  SrtpSession tx(p.a.keys->profile, {p.a.keys->local_key, p.a.keys->local_salt});
  SrtpSession rx(p.b.keys->profile, {p.b.keys->remote_key, p.b.keys->remote_salt});
  std::vector<uint8_t> rtp = {0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 'h', 'i'};
  std::vector<uint8_t> wire(rtp.size() + 32);
  size_t n = 0, m = 0;
  ASSERT_EQ(tx.protect_rtp(rtp, wire, &n), SrtpResult::kOk);
  wire.resize(n);
  ASSERT_EQ(rx.unprotect_rtp(wire, &m), SrtpResult::kOk);
  wire.resize(m);
  EXPECT_EQ(wire, rtp);
}

TEST(Dtls, ApplicationDataBothWaysAndCloseNotify) {
  Pair p;
  p.tb->start();
  p.ta->start();
  p.pump();
  std::string hello = "sctp over dtls";
  ASSERT_TRUE(p.ta->send({reinterpret_cast<const uint8_t*>(hello.data()), hello.size()}));
  ASSERT_TRUE(p.tb->send({reinterpret_cast<const uint8_t*>(hello.data()), 4}));
  p.pump();
  EXPECT_EQ(p.b.data, std::vector<std::string>{hello});
  EXPECT_EQ(p.a.data, std::vector<std::string>{"sctp"});
  p.ta->close();
  p.pump();
  EXPECT_EQ(p.tb->state(), DtlsTransport::State::kClosed);
  EXPECT_EQ(p.b.closed_reason, "peer sent close_notify");
  EXPECT_FALSE(p.ta->send({reinterpret_cast<const uint8_t*>(hello.data()), 1}));
}

TEST(Dtls, WrongFingerprintFails) {
  Pair p(/*right_fingerprint=*/false);
  p.tb->start();
  p.ta->start();
  p.pump();
  EXPECT_EQ(p.ta->state(), DtlsTransport::State::kFailed);
  EXPECT_NE(p.a.closed_reason.find("fingerprint"), std::string::npos);
  EXPECT_FALSE(p.a.keys);
}

TEST(Dtls, GarbageBeforeAndAfterTheHandshakeIsSurvived) {
  Pair p;
  std::mt19937 rng(4);
  p.tb->start();
  // Junk "records", including zero-length fragments, before the real ClientHello.
  for (int i = 0; i < 200; ++i) {
    std::vector<uint8_t> junk(1 + rng() % 100);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    junk[0] = static_cast<uint8_t>(20 + rng() % 4);
    p.tb->receive(junk);
  }
  ASSERT_NE(p.tb->state(), DtlsTransport::State::kFailed) << p.b.closed_reason;
  // The real handshake still succeeds afterwards.
  p.b_to_a.clear();
  p.ta->start();
  p.pump();
  EXPECT_EQ(p.ta->state(), DtlsTransport::State::kConnected) << p.a.closed_reason;
  std::vector<uint8_t> junk = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 3, 1, 2, 3};
  p.tb->receive(junk);  // an undecryptable application record is dropped
  EXPECT_EQ(p.tb->state(), DtlsTransport::State::kConnected);
  auto t = p.ta->next_timeout();
  EXPECT_FALSE(t.has_value());  // nothing pending once connected
}

}  // namespace
}  // namespace parlor::rtc
