// libFuzzer target: RTCP compound iteration and every typed reader.
#include <cstddef>
#include <cstdint>

#include "rtc/rtcp/rtcp_packet.hpp"

using namespace parlor::rtc::rtcp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CompoundIterator it({data, size});
  while (auto h = it.next()) {
    (void)read_sender_report(*h);
    for (uint8_t i = 0; i < 32; ++i) (void)read_report_block(*h, i);
    (void)read_feedback_ids(*h);
    (void)read_remb(*h);
    for_each_nack(*h, [](uint16_t) {});
    for_each_fir(*h, [](uint32_t, uint8_t) {});
  }
  return 0;
}
