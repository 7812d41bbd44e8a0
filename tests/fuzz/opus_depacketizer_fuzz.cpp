// libFuzzer target: the recorder's Opus depacketizer (RFC 7587, RED per RFC 2198 unwrapped to
// the primary block) and the TOC duration reader (RFC 6716 §3.1). The first byte picks the
// payload type; an accepted frame must lie inside the payload and last 2.5 to 120 ms.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "egress/opus_depacketizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  parlor::egress::OpusDepacketizer d(111, 63);
  std::span<const uint8_t> payload(data + 1, size - 1);
  auto f = d.depacketize((data[0] & 1) ? 63 : 111, payload);
  if (!f) return 0;
  if (f->data.empty() || f->data.data() < payload.data() ||
      f->data.data() + f->data.size() > payload.data() + payload.size())
    abort();
  if (f->samples < 120 || f->samples > 5760) abort();
  return 0;
}
