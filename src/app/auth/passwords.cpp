#include "app/auth/passwords.hpp"

#include <sodium.h>

#include "common/encoding.hpp"
#include "common/errors.hpp"

namespace parlor::app {
namespace {
void ensure_sodium() {
  if (sodium_init() < 0) throw InternalError("libsodium failed to initialise");
}
}  // namespace

std::string hash_password(const std::string& password) {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  // Interactive limits: ~64 MiB and a few passes, suited to a login request.
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    throw InternalError("password hashing ran out of memory");
  }
  return out;
}

bool verify_password(const std::string& hash, const std::string& password) {
  ensure_sodium();
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string random_token() {
  ensure_sodium();
  unsigned char buf[32];
  randombytes_buf(buf, sizeof(buf));
  return common::base64url_encode({buf, sizeof(buf)});
}

}  // namespace parlor::app
