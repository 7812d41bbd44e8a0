#include "app/video/twilio_token.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "common/encoding.hpp"
#include "common/errors.hpp"

namespace parlor::app {

namespace {
// Twilio rejects Video tokens that live longer than a day.
constexpr std::chrono::seconds kMaxTwilioTtl = std::chrono::hours(24);
constexpr size_t kSidLength = 34;  // "AC"/"SK" + 32 hex digits
}  // namespace

void validate_twilio_credentials(const TwilioCredentials& c) {
  if (c.account_sid.size() != kSidLength || c.account_sid.rfind("AC", 0) != 0) {
    throw BadInput("TWILIO_ACCOUNT_SID must be an account SID (AC followed by 32 hex digits)");
  }
  if (c.api_key.size() != kSidLength || c.api_key.rfind("SK", 0) != 0) {
    throw BadInput("TWILIO_API_KEY must be an API key SID (SK followed by 32 hex digits)");
  }
  if (c.api_secret.empty()) throw BadInput("TWILIO_API_SECRET must be set");
}

std::string mint_twilio_video_token(const TwilioCredentials& c, const std::string& identity,
                                    const std::string& room, int64_t now,
                                    std::chrono::seconds ttl) {
  using nlohmann::json;
  if (ttl > kMaxTwilioTtl) ttl = kMaxTwilioTtl;
  // nlohmann::json orders keys alphabetically; JWS does not care about member order.
  json header = {{"typ", "JWT"}, {"alg", "HS256"}, {"cty", "twilio-fpa;v=1"}};
  json video = json::object();
  if (!room.empty()) video["room"] = room;
  json claims = {{"jti", c.api_key + "-" + std::to_string(now)},
                 {"iss", c.api_key},
                 {"sub", c.account_sid},
                 {"iat", now},
                 {"exp", now + ttl.count()},
                 {"grants", {{"identity", identity}, {"video", video}}}};
  std::string signing_input = common::base64url_encode(common::as_bytes(header.dump())) + "." +
                              common::base64url_encode(common::as_bytes(claims.dump()));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), c.api_secret.data(), static_cast<int>(c.api_secret.size()),
            reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
            &mac_len)) {
    throw InternalError("HMAC-SHA256 failed");
  }
  return signing_input + "." + common::base64url_encode({mac, mac_len});
}

}  // namespace parlor::app
