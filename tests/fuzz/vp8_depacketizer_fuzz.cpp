// libFuzzer target: the recorder's VP8 depacketizer (RFC 7741). The input is split into payloads
// by a length byte each; the depacketizer must never read outside them, and a frame it accepts
// is exactly the payloads minus their descriptors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "egress/vp8_depacketizer.hpp"
#include "rtc/codecs/codecs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parlor::egress::Vp8Depacketizer d;
  d.begin_frame();
  size_t expected = 0;
  bool ok = true;
  size_t pos = 0;
  while (pos < size) {
    size_t n = std::min<size_t>(data[pos], size - pos - 1);
    std::span<const uint8_t> payload(data + pos + 1, n);
    pos += 1 + n;
    bool added = d.add(payload);
    if (added) {
      auto desc = parlor::rtc::parse_vp8_descriptor(payload);
      if (!desc) abort();
      expected += payload.size() - desc->size;
    }
    ok = ok && added;
  }
  auto frame = d.end_frame();
  if (!frame.empty() && (!ok || frame.size() != expected)) abort();
  if (!frame.empty() && d.keyframe() && (d.width() <= 0 || d.height() <= 0)) abort();
  return 0;
}
