#pragma once
// Byte-string encodings used by tokens, webhooks and the join_request parameter.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace parlor::common {

// RFC 4648 §4 (standard, padded) and §5 (URL-safe; padding optional on decode).
std::string base64_encode(std::span<const uint8_t> data);
std::string base64url_encode(std::span<const uint8_t> data);  // no padding, as JWS wants
// Accepts both alphabets, with or without padding; nullopt on any invalid character.
std::optional<std::string> base64_decode(std::string_view text);

inline std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Percent-decoding of a URL query component ('+' means space).
std::optional<std::string> url_decode(std::string_view text);

// Random identifiers in LiveKit's shape: prefix + 12 characters (e.g. "RM_", "PA_", "EV_").
std::string random_id(std::string_view prefix, size_t length = 12);

// gunzip (RFC 1952) with an output cap; nullopt if malformed or larger than max_output.
std::optional<std::string> gunzip(std::string_view data, size_t max_output);

}  // namespace parlor::common
