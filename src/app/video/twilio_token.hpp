#pragma once
// Twilio Video access tokens, as Twilio's server SDKs mint them: a compact JWS, HS256 with the
// API key's secret, header {"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"} and claims
// {jti: "<apiKeySid>-<iat>", iss: apiKeySid (SK...), sub: accountSid (AC...), iat, exp,
//  grants: {identity, video: {room}}}. Pure; unit-tested in tests/unit/app/twilio_token_test.cpp.
#include <chrono>
#include <cstdint>
#include <string>

namespace parlor::app {

struct TwilioCredentials {
  std::string account_sid;  // AC...
  std::string api_key;      // SK...
  std::string api_secret;
};

// Throws parlor::BadInput naming the variable that is missing or malformed.
void validate_twilio_credentials(const TwilioCredentials& c);

std::string mint_twilio_video_token(const TwilioCredentials& c, const std::string& identity,
                                    const std::string& room, int64_t now_unix,
                                    std::chrono::seconds ttl);

}  // namespace parlor::app
