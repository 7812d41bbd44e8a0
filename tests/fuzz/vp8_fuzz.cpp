// libFuzzer target: the VP8 payload descriptor parser (RFC 7741 §4.2) the forwarding path uses
// for picture ids, temporal layers and keyframe detection. Checks the parser's promises too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "rtc/codecs/codecs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> payload(data, size);
  auto d = parlor::rtc::parse_vp8_descriptor(payload);
  if (!d) return 0;
  // The descriptor never claims more bytes than there are, and a keyframe starts partition 0.
  if (d->size == 0 || d->size >= size) abort();  // at least one VP8 payload byte follows
  if (d->keyframe && (!d->start_of_partition || d->partition_id != 0)) abort();
  if (d->picture_id && *d->picture_id > (d->picture_id_15bit ? 0x7FFF : 0x7F)) abort();
  if (d->temporal_id && *d->temporal_id > 3) abort();
  if (d->key_idx && *d->key_idx > 31) abort();
  if (parlor::rtc::vp8_starts_keyframe(payload) != d->keyframe) abort();
  return 0;
}
