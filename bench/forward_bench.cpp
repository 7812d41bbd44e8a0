// The forwarding path per incoming 1200-byte VP8 packet: UpTrack bookkeeping (layer stats, NACK
// cache copy, layer choice) plus, per subscriber, DownTrack's copy without extensions and the
// SSRC/seq/timestamp/PT rewrite. Protection and the socket are measured separately (bench_srtp,
// bench_udp), so the sink here only counts. Arg = subscribers per track.
//   build/release/bench_forward
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "sfu/down_track.hpp"
#include "sfu/up_track.hpp"

namespace {

class CountingSink : public parlor::rtc::RtpSink {
 public:
  bool send_rtp(std::span<const uint8_t> plain) override {
    bytes += plain.size();
    return true;
  }
  uint64_t bytes = 0;
};

std::vector<uint8_t> packet(uint16_t seq, uint32_t ts, bool keyframe) {
  std::vector<uint8_t> p(1200, 0x42);
  const uint8_t header[] = {0x90, 96, uint8_t(seq >> 8), uint8_t(seq), uint8_t(ts >> 24), uint8_t(ts >> 16),
                            uint8_t(ts >> 8), uint8_t(ts), 0x11, 0x22, 0x33, 0x44,
                            0xBE, 0xDE, 0x00, 0x02, 0x10, '0', 0x22, 0x01, 0x02, 0x03, 0x00, 0x00,
                            0x90, 0x80, 0x05, uint8_t(keyframe ? 0x00 : 0x01)};
  std::copy(std::begin(header), std::end(header), p.begin());
  return p;
}

void BM_ForwardVideoPacket(benchmark::State& state) {
  const int subscribers = static_cast<int>(state.range(0));
  CountingSink sink;
  parlor::sfu::UpTrack up(true, 1, [](uint32_t) {});
  std::vector<std::unique_ptr<parlor::sfu::DownTrack>> downs;
  for (int i = 0; i < subscribers; ++i) {
    downs.push_back(std::make_unique<parlor::sfu::DownTrack>(sink, 1000 + i, 96, true));
    up.add(downs.back().get());
  }
  auto now = parlor::sfu::UpTrack::Clock::now();
  auto key = packet(0, 0, true);
  up.on_packet(*parlor::rtc::RtpPacketView::parse(key), 0, now);  // everyone starts here
  auto p = packet(1, 3000, false);
  uint16_t seq = 1;
  for (auto _ : state) {
    p[2] = uint8_t(seq >> 8);
    p[3] = uint8_t(seq);
    ++seq;
    up.on_packet(*parlor::rtc::RtpPacketView::parse(p), 0, now);
  }
  benchmark::DoNotOptimize(sink.bytes);
  state.SetItemsProcessed(state.iterations());
  for (auto& d : downs) up.remove(d.get());
}
BENCHMARK(BM_ForwardVideoPacket)->Arg(1)->Arg(2)->Arg(8)->Arg(32);

}  // namespace

BENCHMARK_MAIN();
