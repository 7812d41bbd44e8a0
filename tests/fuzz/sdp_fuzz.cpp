// libFuzzer target: SDP parsing, every typed reader, and serialization.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/errors.hpp"
#include "rtc/sdp/session_description.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto sd = parlor::rtc::SessionDescription::parse(
        std::string_view(reinterpret_cast<const char*>(data), size));
    for (const auto& m : sd.media) {
      (void)m.codecs();
      (void)m.extensions();
      (void)m.rids();
      (void)m.simulcast_send();
      (void)m.msid();
      (void)m.ssrcs();
      (void)m.fid_groups();
    }
    (void)sd.bundle_mids();
    (void)sd.serialize();
  } catch (const parlor::BadInput&) {
  }
  return 0;
}
