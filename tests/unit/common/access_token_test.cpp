#include "common/auth/access_token.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "common/encoding.hpp"
#include "common/errors.hpp"

namespace parlor::auth {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::system_clock;

const SecretLookup kKeys = [](const std::string& key) -> std::optional<std::string> {
  if (key == "devkey") return std::string("secret");
  return std::nullopt;
};

ClaimGrants join_claims() {
  ClaimGrants c;
  c.api_key = "devkey";
  c.identity = "visitor-1";
  c.name = "Visitor One";
  c.metadata = "{\"visit\":7}";
  c.attributes = {{"role", "visitor"}};
  VideoGrant g;
  g.room_join = true;
  g.room = "visit-7";
  g.can_publish_sources = {"camera", "microphone"};
  c.video = g;
  return c;
}

TEST(AccessToken, MintThenVerifyKeepsEveryClaim) {
  auto token = mint_token(join_claims(), "secret");
  auto c = verify_token(token, kKeys);
  EXPECT_EQ(c.api_key, "devkey");
  EXPECT_EQ(c.identity, "visitor-1");
  EXPECT_EQ(c.name, "Visitor One");
  EXPECT_EQ(c.metadata, "{\"visit\":7}");
  EXPECT_EQ(c.attributes.at("role"), "visitor");
  ASSERT_TRUE(c.video);
  EXPECT_TRUE(c.video->room_join);
  EXPECT_EQ(c.video->room, "visit-7");
  EXPECT_EQ(c.video->can_publish_sources, (std::vector<std::string>{"camera", "microphone"}));
  // Defaults when the grant leaves them out: publish and subscribe allowed, data = publish.
  EXPECT_TRUE(c.video->effective_can_publish());
  EXPECT_TRUE(c.video->effective_can_subscribe());
  EXPECT_TRUE(c.video->effective_can_publish_data());
}

TEST(AccessToken, GrantFlagsRoundTripThroughJson) {
  VideoGrant g;
  g.room_admin = g.room_create = g.room_list = g.room_record = g.hidden = true;
  g.can_publish = false;
  g.can_subscribe = true;
  g.can_update_own_metadata = true;
  auto back = video_grant_from_json(video_grant_to_json(g));
  EXPECT_TRUE(back.room_admin && back.room_create && back.room_list && back.room_record);
  EXPECT_TRUE(back.hidden && back.can_update_own_metadata);
  EXPECT_FALSE(back.effective_can_publish());
  EXPECT_FALSE(back.effective_can_publish_data());
  EXPECT_TRUE(back.effective_can_subscribe());
}

TEST(AccessToken, ExpiredIsRejected) {
  MintOptions opts;
  opts.now = Clock::now() - std::chrono::hours(2);
  opts.ttl = seconds(600);
  auto token = mint_token(join_claims(), "secret", opts);
  EXPECT_THROW(verify_token(token, kKeys), Unauthenticated);
}

TEST(AccessToken, ExpiryWithinLeewayIsAccepted) {
  MintOptions opts;
  opts.now = Clock::now() - seconds(630);
  opts.ttl = seconds(600);  // expired 30 s ago, inside the 60 s leeway
  EXPECT_NO_THROW(verify_token(mint_token(join_claims(), "secret", opts), kKeys));
}

TEST(AccessToken, NotYetValidIsRejected) {
  MintOptions opts;
  opts.now = Clock::now() + std::chrono::hours(1);
  EXPECT_THROW(verify_token(mint_token(join_claims(), "secret", opts), kKeys), Unauthenticated);
}

TEST(AccessToken, WrongKeyAndWrongSecretAreRejected) {
  auto c = join_claims();
  c.api_key = "otherkey";
  EXPECT_THROW(verify_token(mint_token(c, "secret"), kKeys), Unauthenticated);
  EXPECT_THROW(verify_token(mint_token(join_claims(), "not-secret"), kKeys), Unauthenticated);
}

TEST(AccessToken, TamperedPayloadFailsSignature) {
  auto token = mint_token(join_claims(), "secret");
  auto d1 = token.find('.'), d2 = token.rfind('.');
  auto payload = *common::base64_decode(token.substr(d1 + 1, d2 - d1 - 1));
  auto j = nlohmann::json::parse(payload);
  j["video"]["roomAdmin"] = true;
  auto forged = token.substr(0, d1 + 1) + common::base64url_encode(common::as_bytes(j.dump())) +
                token.substr(d2);
  try {
    verify_token(forged, kKeys);
    FAIL() << "forged token accepted";
  } catch (const Unauthenticated& e) {
    EXPECT_STREQ(e.what(), "invalid token signature");
  }
}

TEST(AccessToken, MalformedTokensAreRejected) {
  for (const std::string t : {"", "abc", "a.b", "a.b.c.d", "!!!.???.***", "e30.e30.", "e30.bm90anNvbg.xx"}) {
    EXPECT_THROW(verify_token(t, kKeys), Unauthenticated) << t;
  }
  EXPECT_THROW(verify_token(std::string(20000, 'a'), kKeys), Unauthenticated);
}

TEST(AccessToken, AlgorithmsOtherThanHs256AreRejected) {
  auto token = mint_token(join_claims(), "secret");
  auto rest = token.substr(token.find('.'));
  for (const char* alg : {R"({"alg":"none"})", R"({"alg":"HS512"})", R"({"alg":"RS256"})", "{}"}) {
    auto forged = common::base64url_encode(common::as_bytes(alg)) + rest;
    try {
      verify_token(forged, kKeys);
      FAIL() << alg;
    } catch (const Unauthenticated& e) {
      EXPECT_NE(std::string(e.what()).find("algorithm"), std::string::npos) << alg;
    }
  }
}

TEST(AccessToken, MissingExpiryIsRejected) {
  // A correctly signed token without `exp`: current LiveKit refuses these, so do we.
  std::string header = R"({"alg":"HS256"})";
  std::string payload = R"({"iss":"devkey","sub":"x","video":{"roomJoin":true,"room":"r"}})";
  std::string input = common::base64url_encode(common::as_bytes(header)) + "." +
                      common::base64url_encode(common::as_bytes(payload));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), "secret", 6, reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &len);
  std::string token = input + "." + common::base64url_encode({mac, len});
  try {
    verify_token(token, kKeys);
    FAIL() << "token without exp accepted";
  } catch (const Unauthenticated& e) {
    EXPECT_STREQ(e.what(), "access token has no expiry");
  }
  VerifyOptions lenient;
  lenient.require_exp = false;
  EXPECT_EQ(verify_token(token, kKeys, lenient).identity, "x");
}

TEST(AccessToken, PeekIssuerReadsWithoutVerifying) {
  EXPECT_EQ(peek_issuer(mint_token(join_claims(), "whatever")), "devkey");
  EXPECT_FALSE(peek_issuer("garbage"));
}

}  // namespace
}  // namespace parlor::auth
