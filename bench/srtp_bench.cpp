// Cost per 1200-byte packet of SRTP protect/unprotect: ours (OpenSSL EVP, contexts kept per
// session) against Debian's libsrtp2, for AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM.
//   build/release/bench_srtp --benchmark_min_time=0.5
#include <benchmark/benchmark.h>
#include <srtp2/srtp.h>

#include <cstring>
#include <vector>

#include "rtc/srtp/srtp_session.hpp"

namespace {

using parlor::rtc::SrtpProfile;
using parlor::rtc::SrtpSession;

constexpr size_t kPayload = 1200 - 12;

std::vector<uint8_t> packet(uint16_t seq) {
  std::vector<uint8_t> p(12 + kPayload, 0xAB);
  p[0] = 0x80, p[1] = 96, p[2] = seq >> 8, p[3] = seq & 0xff;
  p[8] = 0x12, p[9] = 0x34, p[10] = 0x56, p[11] = 0x78;
  return p;
}

SrtpProfile profile_of(const benchmark::State& state) {
  return state.range(0) ? SrtpProfile::kAeadAes128Gcm : SrtpProfile::kAes128CmHmacSha1_80;
}

std::vector<uint8_t> key_salt(SrtpProfile p) {
  std::vector<uint8_t> k(16 + SrtpSession::master_salt_length(p));
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 7 + 1);
  return k;
}

void BM_OursProtect(benchmark::State& state) {
  auto p = profile_of(state);
  auto ks = key_salt(p);
  SrtpSession s(p, {{ks.data(), 16}, {ks.data() + 16, ks.size() - 16}});
  auto plain = packet(0);
  std::vector<uint8_t> out(plain.size() + 32);
  uint16_t seq = 0;
  for (auto _ : state) {
    plain[2] = seq >> 8, plain[3] = seq & 0xff;
    ++seq;
    size_t len = 0;
    s.protect_rtp(plain, out, &len);
    benchmark::DoNotOptimize(len);
  }
  state.SetBytesProcessed(state.iterations() * plain.size());
}

void BM_OursUnprotect(benchmark::State& state) {
  auto p = profile_of(state);
  auto ks = key_salt(p);
  SrtpSession tx(p, {{ks.data(), 16}, {ks.data() + 16, ks.size() - 16}});
  SrtpSession rx(p, {{ks.data(), 16}, {ks.data() + 16, ks.size() - 16}});
  // Pre-protect a ring of packets; the replay window needs fresh sequence numbers.
  constexpr int kRing = 60000;
  std::vector<std::vector<uint8_t>> wire(kRing);
  for (int i = 0; i < kRing; ++i) {
    auto plain = packet(static_cast<uint16_t>(i));
    wire[i].resize(plain.size() + 32);
    size_t len = 0;
    tx.protect_rtp(plain, wire[i], &len);
    wire[i].resize(len);
  }
  std::vector<uint8_t> work(wire[0].size() + 32);
  int i = 0;
  for (auto _ : state) {
    if (i == kRing) {
      state.PauseTiming();
      rx.~SrtpSession();
      new (&rx) SrtpSession(p, {{ks.data(), 16}, {ks.data() + 16, ks.size() - 16}});
      i = 0;
      state.ResumeTiming();
    }
    std::memcpy(work.data(), wire[i].data(), wire[i].size());
    size_t len = 0;
    rx.unprotect_rtp({work.data(), wire[i].size()}, &len);
    benchmark::DoNotOptimize(len);
    ++i;
  }
  state.SetBytesProcessed(state.iterations() * 1200);
}

srtp_t make_libsrtp(SrtpProfile p, std::vector<uint8_t>& ks, bool outbound) {
  static bool init = (srtp_init() == srtp_err_status_ok);
  (void)init;
  srtp_policy_t policy{};
  if (p == SrtpProfile::kAeadAes128Gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  }
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = ks.data();
  policy.window_size = 1024;
  policy.allow_repeat_tx = 1;
  srtp_t ctx = nullptr;
  srtp_create(&ctx, &policy);
  return ctx;
}

void BM_LibsrtpProtect(benchmark::State& state) {
  auto p = profile_of(state);
  auto ks = key_salt(p);
  srtp_t ctx = make_libsrtp(p, ks, true);
  auto plain = packet(0);
  std::vector<uint8_t> buf(plain.size() + 64);
  uint16_t seq = 0;
  for (auto _ : state) {
    plain[2] = seq >> 8, plain[3] = seq & 0xff;
    ++seq;
    std::memcpy(buf.data(), plain.data(), plain.size());
    int len = static_cast<int>(plain.size());
    srtp_protect(ctx, buf.data(), &len);
    benchmark::DoNotOptimize(len);
  }
  srtp_dealloc(ctx);
  state.SetBytesProcessed(state.iterations() * plain.size());
}

void BM_LibsrtpUnprotect(benchmark::State& state) {
  auto p = profile_of(state);
  auto ks = key_salt(p);
  srtp_t tx = make_libsrtp(p, ks, true);
  srtp_t rx = make_libsrtp(p, ks, false);
  constexpr int kRing = 60000;
  std::vector<std::vector<uint8_t>> wire(kRing);
  for (int i = 0; i < kRing; ++i) {
    wire[i] = packet(static_cast<uint16_t>(i));
    int len = static_cast<int>(wire[i].size());
    wire[i].resize(wire[i].size() + 64);
    srtp_protect(tx, wire[i].data(), &len);
    wire[i].resize(static_cast<size_t>(len));
  }
  std::vector<uint8_t> work(wire[0].size() + 64);
  int i = 0;
  for (auto _ : state) {
    if (i == kRing) {
      state.PauseTiming();
      srtp_dealloc(rx);
      rx = make_libsrtp(p, ks, false);
      i = 0;
      state.ResumeTiming();
    }
    std::memcpy(work.data(), wire[i].data(), wire[i].size());
    int len = static_cast<int>(wire[i].size());
    srtp_unprotect(rx, work.data(), &len);
    benchmark::DoNotOptimize(len);
    ++i;
  }
  srtp_dealloc(tx);
  srtp_dealloc(rx);
  state.SetBytesProcessed(state.iterations() * 1200);
}

BENCHMARK(BM_OursProtect)->Arg(0)->Arg(1)->ArgName("gcm");
BENCHMARK(BM_OursUnprotect)->Arg(0)->Arg(1)->ArgName("gcm");
BENCHMARK(BM_LibsrtpProtect)->Arg(0)->Arg(1)->ArgName("gcm");
BENCHMARK(BM_LibsrtpUnprotect)->Arg(0)->Arg(1)->ArgName("gcm");

}  // namespace

BENCHMARK_MAIN();
