// `parlor app` settings: short API secrets are refused outside --dev with one line naming the
// setting; cookie and throttle flags.
#include <gtest/gtest.h>

#include "app/app_server.hpp"
#include "common/errors.hpp"

namespace parlor::app {
namespace {

AppConfig load(std::vector<std::string> args, std::map<std::string, std::string> env) {
  std::vector<char*> argv{const_cast<char*>("app")};
  for (auto& a : args) argv.push_back(a.data());
  bool help = false;
  return load_app_config(static_cast<int>(argv.size()), argv.data(), env, &help);
}

const std::string kLongSecret(kMinApiSecretLength, 'k');

TEST(AppConfig, RefusesAShortLiveKitSecretOutsideDev) {
  std::map<std::string, std::string> env{{"LIVEKIT_URL", "ws://127.0.0.1:7880"},
                                         {"LIVEKIT_API_KEY", "devkey"},
                                         {"LIVEKIT_API_SECRET", std::string(31, 'k')}};
  try {
    load({}, env);
    ADD_FAILURE() << "a 31-character secret was accepted";
  } catch (const BadInput& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind("LIVEKIT_API_SECRET", 0), 0u) << m;  // names the setting first
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  env["LIVEKIT_API_SECRET"] = "secret";
  EXPECT_THROW(load({}, env), BadInput);
  EXPECT_NO_THROW(load({"--dev"}, env));  // development keys stay usable
  env["LIVEKIT_API_SECRET"] = kLongSecret;
  EXPECT_NO_THROW(load({}, env));
  // The Twilio provider's secret is Twilio's, not ours to size.
  EXPECT_NO_THROW(load({}, {{"VIDEO_PROVIDER", "twilio"}}));
}

TEST(AppConfig, PublicLivekitUrlIsWhatBrowsersGet) {
  std::map<std::string, std::string> env{{"LIVEKIT_API_SECRET", kLongSecret},
                                         {"LIVEKIT_URL", "ws://media.internal:7880"}};
  EXPECT_EQ(load({}, env).settings.livekit_url, "");  // AppServer falls back to LIVEKIT_URL
  env["PARLOR_PUBLIC_LIVEKIT_URL"] = "wss://media.example.org";
  auto c = load({}, env);
  EXPECT_EQ(c.settings.livekit_url, "wss://media.example.org");
  EXPECT_EQ(c.video.url, "ws://media.internal:7880");
}

TEST(AppConfig, CookieAndThrottleSettings) {
  std::map<std::string, std::string> env{{"LIVEKIT_API_SECRET", kLongSecret}};
  auto c = load({}, env);
  EXPECT_FALSE(c.settings.secure_cookies);
  EXPECT_FALSE(c.settings.trust_proxy);
  c = load({"--secure-cookies", "--trust-proxy", "--login-attempts-per-minute", "3",
            "--login-attempts-overall-per-minute", "7"},
           env);
  EXPECT_TRUE(c.settings.secure_cookies);
  EXPECT_TRUE(c.settings.trust_proxy);
  EXPECT_EQ(c.settings.login_throttle.per_account_per_minute, 3);
  EXPECT_EQ(c.settings.login_throttle.overall_per_minute, 7);
  env["PARLOR_TRUST_PROXY"] = "1";
  env["PARLOR_SECURE_COOKIES"] = "true";
  c = load({}, env);
  EXPECT_TRUE(c.settings.secure_cookies);
  EXPECT_TRUE(c.settings.trust_proxy);
  env["PARLOR_TRUST_PROXY"] = "maybe";
  EXPECT_THROW(load({}, env), BadInput);
}

}  // namespace
}  // namespace parlor::app
