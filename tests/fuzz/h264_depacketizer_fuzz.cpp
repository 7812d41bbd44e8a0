// libFuzzer target: the recorder's H.264 depacketizer (RFC 6184 single NAL, STAP-A, FU-A). The
// input is split into payloads by a 2-byte length each; the output must be well-formed Annex-B
// (every NAL unit after a 4-byte start code, never empty, forbidden bit clear).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "egress/h264_depacketizer.hpp"

namespace {

void check_annexb(std::span<const uint8_t> b) {
  if (b.empty()) return;
  if (b.size() < 5 || b[0] != 0 || b[1] != 0 || b[2] != 0 || b[3] != 1) abort();
  if ((b[4] & 0x80) != 0) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parlor::egress::H264Depacketizer d;
  size_t pos = 0;
  // Two frames, so the parameter sets kept from the first are used by the second.
  for (int frame = 0; frame < 2; ++frame) {
    d.begin_frame();
    int packets = 0;
    while (pos + 2 <= size && packets++ < 16) {
      size_t n = std::min<size_t>((size_t{data[pos]} << 8) | data[pos + 1], size - pos - 2);
      d.add(std::span<const uint8_t>(data + pos + 2, n));
      pos += 2 + n;
    }
    auto au = d.end_frame();
    check_annexb(au);
    check_annexb(d.extradata());
    if (d.keyframe() && d.extradata().empty()) abort();
  }
  return 0;
}
