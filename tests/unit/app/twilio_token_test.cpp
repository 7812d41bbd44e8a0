#include "app/video/twilio_token.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "app/video/video_provider.hpp"
#include "common/encoding.hpp"
#include "common/errors.hpp"

namespace parlor::app {
namespace {

using json = nlohmann::json;

const TwilioCredentials kCredentials{"AC0123456789abcdef0123456789abcdef",
                                     "SKfedcba9876543210fedcba9876543210", "twilio-test-secret"};

std::vector<std::string> split_jws(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    auto dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

json decode_part(const std::string& part) {
  auto text = common::base64_decode(part);
  EXPECT_TRUE(text.has_value());
  return json::parse(text.value_or("null"));
}

TEST(TwilioToken, HasTwilioHeaderClaimsAndGrants) {
  const int64_t now = 1767225600;  // 2026-01-01T00:00:00Z
  auto token =
      mint_twilio_video_token(kCredentials, "visitor-7", "visit-42", now, std::chrono::minutes(15));
  auto parts = split_jws(token);
  ASSERT_EQ(parts.size(), 3u);

  auto header = decode_part(parts[0]);
  EXPECT_EQ(header, (json{{"typ", "JWT"}, {"alg", "HS256"}, {"cty", "twilio-fpa;v=1"}}));

  auto claims = decode_part(parts[1]);
  EXPECT_EQ(claims["jti"], "SKfedcba9876543210fedcba9876543210-1767225600");
  EXPECT_EQ(claims["iss"], kCredentials.api_key);
  EXPECT_EQ(claims["sub"], kCredentials.account_sid);
  EXPECT_EQ(claims["iat"], now);
  EXPECT_EQ(claims["exp"], now + 15 * 60);
  EXPECT_EQ(claims["grants"], (json{{"identity", "visitor-7"}, {"video", {{"room", "visit-42"}}}}));
}

TEST(TwilioToken, SignatureIsHmacSha256OfHeaderAndClaimsWithTheApiSecret) {
  auto token = mint_twilio_video_token(kCredentials, "resident-1", "visit-1", 1767225600,
                                       std::chrono::minutes(5));
  auto last_dot = token.rfind('.');
  std::string signing_input = token.substr(0, last_dot);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ASSERT_NE(HMAC(EVP_sha256(), kCredentials.api_secret.data(),
                 static_cast<int>(kCredentials.api_secret.size()),
                 reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
                 mac, &len),
            nullptr);
  EXPECT_EQ(token.substr(last_dot + 1), common::base64url_encode({mac, len}));
  // base64url without padding, as JWS requires.
  EXPECT_EQ(token.find_first_of("+/="), std::string::npos);

  auto other = kCredentials;
  other.api_secret = "another-secret";
  auto forged =
      mint_twilio_video_token(other, "resident-1", "visit-1", 1767225600, std::chrono::minutes(5));
  EXPECT_NE(forged.substr(forged.rfind('.') + 1), token.substr(last_dot + 1));
}

TEST(TwilioToken, TtlIsCappedAtTwilioMaximumOfADay) {
  auto token = mint_twilio_video_token(kCredentials, "x", "r", 100, std::chrono::hours(48));
  EXPECT_EQ(decode_part(split_jws(token)[1])["exp"], 100 + 24 * 3600);
}

TEST(TwilioToken, CredentialsAreValidated) {
  EXPECT_NO_THROW(validate_twilio_credentials(kCredentials));
  auto c = kCredentials;
  c.account_sid = "SK0123456789abcdef0123456789abcdef";
  EXPECT_THROW(validate_twilio_credentials(c), BadInput);
  c = kCredentials;
  c.api_key = "AC0123456789abcdef0123456789abcdef";
  EXPECT_THROW(validate_twilio_credentials(c), BadInput);
  c = kCredentials;
  c.api_secret.clear();
  EXPECT_THROW(validate_twilio_credentials(c), BadInput);
}

TEST(TwilioProvider, MintsTokensButHasNoRoomControl) {
  VideoSettings s;
  s.provider = "twilio";
  s.twilio_account_sid = kCredentials.account_sid;
  s.twilio_api_key = kCredentials.api_key;
  s.twilio_api_secret = kCredentials.api_secret;
  auto p = make_video_provider(s);
  EXPECT_STREQ(p->name(), "twilio");
  EXPECT_FALSE(p->supports_room_control());
  auto t = p->join_token({"visit-3", "visitor-1", "Victor", "", false});
  EXPECT_EQ(decode_part(split_jws(t.token)[1])["grants"]["video"]["room"], "visit-3");
  EXPECT_GT(t.expires_at, 0);
  EXPECT_THROW(p->mute_track("visit-3", "visitor-1", "TR_x", true), NotSupported);
  EXPECT_THROW(p->end_room("visit-3"), NotSupported);
  EXPECT_THROW(p->send_data("visit-3", "{}", "parlor"), NotSupported);
  EXPECT_THROW(p->verify_webhook("{}", "x"), Unauthenticated);

  s.twilio_api_secret.clear();
  EXPECT_THROW(make_video_provider(s), BadInput);
  s.provider = "zoom";
  EXPECT_THROW(make_video_provider(s), BadInput);
}

}  // namespace
}  // namespace parlor::app
