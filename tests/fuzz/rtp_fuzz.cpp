// libFuzzer target: RTP parsing, extension lookup and in-place rewrites.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rtc/rtp/rtp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> copy(data, data + size);
  auto p = parlor::rtc::RtpPacketView::parse(copy);
  if (!p) return 0;
  for (int id = 0; id < 256; ++id) {
    if (auto e = p->extension(static_cast<uint8_t>(id))) (void)p->set_extension(static_cast<uint8_t>(id), *e);
  }
  p->set_ssrc(1);
  p->set_sequence(2);
  p->set_timestamp(3);
  p->set_payload_type(96);
  (void)p->payload();
  return 0;
}
