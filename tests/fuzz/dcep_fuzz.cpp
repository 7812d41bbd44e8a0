// libFuzzer target: DCEP (RFC 8832) parsing; every OPEN that parses must rebuild byte-exactly.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "rtc/sctp/dcep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  (void)parlor::rtc::dcep_message_type(bytes);
  (void)parlor::rtc::parse_dcep_ack(bytes);
  auto open = parlor::rtc::parse_dcep_open(bytes);
  if (!open) return 0;
  (void)open->ordered();
  auto rebuilt = parlor::rtc::build_dcep_open(*open);
  if (!rebuilt || !std::equal(rebuilt->begin(), rebuilt->end(), bytes.begin(), bytes.end())) {
    std::abort();  // parse and build disagree
  }
  return 0;
}
