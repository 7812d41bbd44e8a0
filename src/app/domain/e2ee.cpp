#include "app/domain/e2ee.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/encoding.hpp"
#include "common/errors.hpp"

namespace parlor::app {

std::string derive_e2ee_key(std::string_view secret, long long visit_id, std::string_view room) {
  if (secret.empty()) throw BadInput("no end-to-end encryption secret (PARLOR_E2EE_SECRET)");
  std::string message = "parlor-e2ee:" + std::to_string(visit_id) + ":" + std::string(room);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len) ||
      len != kE2eeKeyBytes) {
    throw InternalError("HMAC-SHA256 failed");
  }
  return common::base64url_encode({mac, len});
}

std::string generate_e2ee_secret() {
  unsigned char bytes[kE2eeKeyBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) throw InternalError("no randomness for a secret");
  return common::base64url_encode({bytes, sizeof(bytes)});
}

}  // namespace parlor::app
