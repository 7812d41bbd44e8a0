// libFuzzer target: the /rtc/v1 `join_request` query parameter (spec §2.4: base64url, then
// WrappedJoinRequest, then gunzip when flagged) and the JoinParams built from it. Bad input may
// only ever throw BadInput (the upgrade answers 400); anything else escaping is a crash here.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/errors.hpp"
#include "signal/signal_server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string param(reinterpret_cast<const char*>(data), size);
  constexpr size_t kMaxBytes = 64 * 1024;
  try {
    auto request = parlor::signal::decode_join_request(param, kMaxBytes);
    parlor::auth::ClaimGrants claims;
    claims.identity = "fuzz";
    parlor::http::Request http;
    auto params = parlor::signal::join_params(claims, http, &request);
    (void)params;
  } catch (const parlor::BadInput&) {
  }
  return 0;
}
