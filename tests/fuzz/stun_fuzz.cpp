// libFuzzer target: STUN parsing and every accessor, integrity and fingerprint checks.
#include <cstddef>
#include <cstdint>

#include "rtc/stun/stun_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = parlor::rtc::StunMessageView::parse({data, size});
  if (!m) return 0;
  (void)m->username();
  (void)m->priority();
  (void)m->ice_controlling();
  (void)m->ice_controlled();
  (void)m->xor_mapped_address();
  (void)m->error_code();
  (void)m->check_integrity("password");
  (void)m->check_fingerprint();
  return 0;
}
