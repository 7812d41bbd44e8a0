// Our SRTP against libsrtp2 (Debian's, linked into the tests only) as the oracle: both
// profiles, both directions, RTP and RTCP, across a sequence-number rollover.
#include "rtc/srtp/srtp_session.hpp"

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <random>
#include <vector>

namespace parlor::rtc {
namespace {

struct LibSrtp {
  srtp_t ctx = nullptr;
  LibSrtp(SrtpProfile profile, const std::vector<uint8_t>& key_salt, bool outbound) {
    static bool initialized = (srtp_init() == srtp_err_status_ok);
    EXPECT_TRUE(initialized);
    srtp_policy_t policy{};
    if (profile == SrtpProfile::kAeadAes128Gcm) {
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    } else {
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    }
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.key = const_cast<uint8_t*>(key_salt.data());
    policy.window_size = 1024;
    policy.next = nullptr;
    EXPECT_EQ(srtp_create(&ctx, &policy), srtp_err_status_ok);
  }
  ~LibSrtp() { srtp_dealloc(ctx); }
};

struct Keys {
  std::vector<uint8_t> key, salt, both;
  explicit Keys(SrtpProfile p, uint32_t seed) {
    std::mt19937 rng(seed);
    key.resize(16);
    salt.resize(SrtpSession::master_salt_length(p));
    for (auto& b : key) b = static_cast<uint8_t>(rng());
    for (auto& b : salt) b = static_cast<uint8_t>(rng());
    both = key;
    both.insert(both.end(), salt.begin(), salt.end());
  }
  SrtpKeys view() const { return {key, salt}; }
};

std::vector<uint8_t> rtp_packet(std::mt19937& rng, uint16_t seq, uint32_t ts, uint32_t ssrc,
                                bool extension) {
  size_t payload = 1 + rng() % 1200;
  std::vector<uint8_t> p = {0x80, 96, static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq),
                            static_cast<uint8_t>(ts >> 24), static_cast<uint8_t>(ts >> 16),
                            static_cast<uint8_t>(ts >> 8), static_cast<uint8_t>(ts),
                            static_cast<uint8_t>(ssrc >> 24), static_cast<uint8_t>(ssrc >> 16),
                            static_cast<uint8_t>(ssrc >> 8), static_cast<uint8_t>(ssrc)};
  if (extension) {  // one-byte header extension block with one element (mid = "0")
    p[0] |= 0x10;
    p.insert(p.end(), {0xBE, 0xDE, 0x00, 0x01, 0x10, '0', 0x00, 0x00});
  }
  for (size_t i = 0; i < payload; ++i) p.push_back(static_cast<uint8_t>(rng()));
  return p;
}

std::vector<uint8_t> rtcp_packet(std::mt19937& rng, uint32_t ssrc) {
  // A receiver report with one report block (RFC 3550 §6.4.2).
  std::vector<uint8_t> p = {0x81, 201, 0x00, 0x07, static_cast<uint8_t>(ssrc >> 24),
                            static_cast<uint8_t>(ssrc >> 16), static_cast<uint8_t>(ssrc >> 8),
                            static_cast<uint8_t>(ssrc)};
  for (int i = 0; i < 24; ++i) p.push_back(static_cast<uint8_t>(rng()));
  return p;
}

class SrtpOracle : public ::testing::TestWithParam<SrtpProfile> {};

TEST_P(SrtpOracle, RtpBothDirectionsAcrossRollover) {
  SrtpProfile profile = GetParam();
  Keys keys(profile, 7);
  SrtpSession ours_tx(profile, keys.view()), ours_rx(profile, keys.view());
  LibSrtp lib_tx(profile, keys.both, true), lib_rx(profile, keys.both, false);
  std::mt19937 rng(1);
  uint16_t seq = 65500;  // roll over after 36 packets
  for (int i = 0; i < 300; ++i, ++seq) {
    auto plain = rtp_packet(rng, seq, 1000u * i, 0x11223344, i % 3 == 0);
    // ours → libsrtp
    std::vector<uint8_t> ours(plain.size() + 32);
    size_t ours_len = 0;
    ASSERT_EQ(ours_tx.protect_rtp(plain, ours, &ours_len), SrtpResult::kOk);
    ours.resize(ours_len);
    // libsrtp's protect of the same packet must be byte-identical
    std::vector<uint8_t> lib(plain);
    lib.resize(plain.size() + SRTP_MAX_TRAILER_LEN);
    int lib_len = static_cast<int>(plain.size());
    ASSERT_EQ(srtp_protect(lib_tx.ctx, lib.data(), &lib_len), srtp_err_status_ok);
    lib.resize(static_cast<size_t>(lib_len));
    ASSERT_EQ(ours, lib) << "packet " << i << " seq " << seq;
    // libsrtp unprotects ours
    std::vector<uint8_t> check(ours);
    int check_len = static_cast<int>(check.size());
    ASSERT_EQ(srtp_unprotect(lib_rx.ctx, check.data(), &check_len), srtp_err_status_ok) << i;
    check.resize(static_cast<size_t>(check_len));
    ASSERT_EQ(check, plain);
    // we unprotect libsrtp's
    size_t plain_len = 0;
    ASSERT_EQ(ours_rx.unprotect_rtp(lib, &plain_len), SrtpResult::kOk) << i;
    lib.resize(plain_len);
    ASSERT_EQ(lib, plain);
  }
}

TEST_P(SrtpOracle, RtcpBothDirections) {
  SrtpProfile profile = GetParam();
  Keys keys(profile, 9);
  SrtpSession ours_tx(profile, keys.view()), ours_rx(profile, keys.view());
  LibSrtp lib_tx(profile, keys.both, true), lib_rx(profile, keys.both, false);
  std::mt19937 rng(2);
  for (int i = 0; i < 50; ++i) {
    auto plain = rtcp_packet(rng, 0xCAFEBABE);
    std::vector<uint8_t> ours(plain.size() + 64);
    size_t ours_len = 0;
    ASSERT_EQ(ours_tx.protect_rtcp(plain, ours, &ours_len), SrtpResult::kOk);
    ours.resize(ours_len);
    std::vector<uint8_t> lib(plain);
    lib.resize(plain.size() + SRTP_MAX_TRAILER_LEN + 4);
    int lib_len = static_cast<int>(plain.size());
    ASSERT_EQ(srtp_protect_rtcp(lib_tx.ctx, lib.data(), &lib_len), srtp_err_status_ok);
    lib.resize(static_cast<size_t>(lib_len));
    ASSERT_EQ(ours, lib) << i;
    std::vector<uint8_t> check(ours);
    int check_len = static_cast<int>(check.size());
    ASSERT_EQ(srtp_unprotect_rtcp(lib_rx.ctx, check.data(), &check_len), srtp_err_status_ok);
    check.resize(static_cast<size_t>(check_len));
    ASSERT_EQ(check, plain);
    size_t plain_len = 0;
    ASSERT_EQ(ours_rx.unprotect_rtcp(lib, &plain_len), SrtpResult::kOk);
    lib.resize(plain_len);
    ASSERT_EQ(lib, plain);
  }
}

TEST_P(SrtpOracle, TamperingReplayAndGarbageAreRejected) {
  SrtpProfile profile = GetParam();
  Keys keys(profile, 11);
  SrtpSession tx(profile, keys.view()), rx(profile, keys.view());
  std::mt19937 rng(3);
  auto plain = rtp_packet(rng, 10, 0, 1, false);
  std::vector<uint8_t> wire(plain.size() + 32);
  size_t len = 0;
  ASSERT_EQ(tx.protect_rtp(plain, wire, &len), SrtpResult::kOk);
  wire.resize(len);
  auto tampered = wire;
  tampered[20] ^= 1;
  size_t out = 0;
  EXPECT_EQ(rx.unprotect_rtp(tampered, &out), SrtpResult::kAuthFailed);
  auto first = wire;
  EXPECT_EQ(rx.unprotect_rtp(first, &out), SrtpResult::kOk);
  auto again = wire;
  EXPECT_EQ(rx.unprotect_rtp(again, &out), SrtpResult::kReplayed);
  std::vector<uint8_t> tiny = {0x80, 0x60, 0x00};
  EXPECT_EQ(rx.unprotect_rtp(tiny, &out), SrtpResult::kMalformed);
  std::vector<uint8_t> small_out(plain.size());
  EXPECT_EQ(tx.protect_rtp(plain, small_out, &out), SrtpResult::kBufferTooSmall);
  for (int i = 0; i < 2000; ++i) {  // random bytes never crash either direction
    std::vector<uint8_t> junk(rng() % 200);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    if (!junk.empty()) junk[0] = static_cast<uint8_t>(0x80 | (junk[0] & 0x3F));
    (void)rx.unprotect_rtp(junk, &out);
    (void)rx.unprotect_rtcp(junk, &out);
  }
  // A wrong key fails authentication.
  Keys other(profile, 99);
  SrtpSession wrong(profile, other.view());
  auto w = wire;
  EXPECT_EQ(wrong.unprotect_rtp(w, &out), SrtpResult::kAuthFailed);
}

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpOracle,
                         ::testing::Values(SrtpProfile::kAes128CmHmacSha1_80,
                                           SrtpProfile::kAeadAes128Gcm),
                         [](const auto& info) {
                           return info.param == SrtpProfile::kAeadAes128Gcm ? std::string("AeadAes128Gcm")
                                                                            : std::string("AesCm128HmacSha1_80");
                         });

TEST(SrtpSession, WrongKeyLengthsThrow) {
  std::vector<uint8_t> k(16), s(14), short_salt(12);
  EXPECT_NO_THROW(SrtpSession(SrtpProfile::kAes128CmHmacSha1_80, {k, s}));
  EXPECT_ANY_THROW(SrtpSession(SrtpProfile::kAes128CmHmacSha1_80, {k, short_salt}));
  EXPECT_ANY_THROW(SrtpSession(SrtpProfile::kAeadAes128Gcm, {k, s}));
}

}  // namespace
}  // namespace parlor::rtc
