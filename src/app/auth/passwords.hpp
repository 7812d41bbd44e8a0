#pragma once
// Password hashing with libsodium's Argon2id (crypto_pwhash_str: salt and parameters are stored
// inside the hash string), and random tokens for sessions and CSRF.
#include <string>

namespace parlor::app {

std::string hash_password(const std::string& password);
bool verify_password(const std::string& hash, const std::string& password);
// 32 random bytes as URL-safe base64.
std::string random_token();

}  // namespace parlor::app
