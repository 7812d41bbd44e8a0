// Cost of parsing a 1200-byte RTP packet and rewriting SSRC, sequence, timestamp and payload
// type in place (what a down track does per forwarded copy).
//   build/release/bench_rtp
#include <benchmark/benchmark.h>

#include <vector>

#include "rtc/rtp/rtp_packet.hpp"

namespace {

void BM_RtpParseRewrite(benchmark::State& state) {
  std::vector<uint8_t> p(1200, 0x42);
  const uint8_t header[] = {0x90, 0x60, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x11, 0x22, 0x33, 0x44,
                            0xBE, 0xDE, 0x00, 0x02, 0x10, '0', 0x22, 0x01, 0x02, 0x03, 0x00, 0x00};
  std::copy(std::begin(header), std::end(header), p.begin());
  uint16_t seq = 0;
  for (auto _ : state) {
    auto v = parlor::rtc::RtpPacketView::parse(p);
    v->set_ssrc(0xCAFEBABE);
    v->set_sequence(seq++);
    v->set_timestamp(90000u * seq);
    v->set_payload_type(96);
    auto mid = v->extension(1);
    benchmark::DoNotOptimize(mid);
  }
}
BENCHMARK(BM_RtpParseRewrite);

}  // namespace

BENCHMARK_MAIN();
