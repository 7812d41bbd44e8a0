#include "common/config/media_config.hpp"

#include <gtest/gtest.h>

#include "common/errors.hpp"

namespace parlor::config {
namespace {

TEST(MediaConfig, DefaultsSurviveAPartialYaml) {
  MediaConfig c;
  apply_yaml(c, "port: 9000\nrtc:\n  udp_port: 50000\nroom:\n  empty_timeout: 10\n");
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.rtc.udp_port, 50000);
  EXPECT_EQ(c.rtc.tcp_port, 7881);  // untouched default
  EXPECT_EQ(c.room.empty_timeout, 10u);
  EXPECT_EQ(c.room.departure_timeout, 20u);
  EXPECT_TRUE(c.room.auto_create);
  EXPECT_EQ(c.logging.level, "info");
}

TEST(MediaConfig, UnknownKeysAreRejectedByName) {
  MediaConfig c;
  try {
    apply_yaml(c, "room:\n  empty_timeot: 5\n");
    FAIL();
  } catch (const BadInput& e) {
    EXPECT_STREQ(e.what(), "config: unknown key 'room.empty_timeot'");
  }
  EXPECT_THROW(apply_yaml(c, "nonsense: 1\n"), BadInput);
}

TEST(MediaConfig, WrongTypesAndBadYamlAreClearErrors) {
  MediaConfig c;
  EXPECT_THROW(apply_yaml(c, "port: seven\n"), BadInput);
  EXPECT_THROW(apply_yaml(c, "rtc: 5\n"), BadInput);
  EXPECT_THROW(apply_yaml(c, "port: [1,\n"), BadInput);
}

TEST(MediaConfig, KeysFromYamlAndEnvironment) {
  MediaConfig c;
  apply_yaml(c, "keys:\n  yamlkey: yamlsecret\n");
  EXPECT_EQ(c.keys.at("yamlkey"), "yamlsecret");
  apply_env(c, {{"LIVEKIT_KEYS", "envkey: envsecret"}, {"LIVEKIT_PORT", "7001"}});
  EXPECT_EQ(c.keys.size(), 1u);
  EXPECT_EQ(c.keys.at("envkey"), "envsecret");
  EXPECT_EQ(c.port, 7001);
  EXPECT_THROW(apply_env(c, {{"LIVEKIT_PORT", "70x"}}), BadInput);
}

TEST(MediaConfig, ParseKeysAcceptsSeveralPairs) {
  auto keys = parse_keys("a: secret-a, b: secret-b\n# comment\nc: \"secret-c\"");
  EXPECT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys.at("c"), "secret-c");
  EXPECT_THROW(parse_keys("nocolon"), BadInput);
  EXPECT_THROW(parse_keys("k:"), BadInput);
}

TEST(MediaConfig, DevModeMatchesUpstream) {
  MediaConfig c;
  c.bind_addresses = {"0.0.0.0"};
  apply_dev(c);
  EXPECT_EQ(c.keys.at("devkey"), "secret");
  EXPECT_EQ(c.bind_addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_NO_THROW(validate(c));
}

TEST(MediaConfig, ValidationCatchesUnusableSettings) {
  MediaConfig c;
  EXPECT_THROW(validate(c), BadInput);  // no keys
  c.keys = {{"k", std::string(kMinSecretLength, 'x')}};
  EXPECT_NO_THROW(validate(c));
  auto bad = c;
  bad.logging.level = "loud";
  EXPECT_THROW(validate(bad), BadInput);
  bad = c;
  bad.rtc.port_range_start = 50000;
  EXPECT_THROW(validate(bad), BadInput);
  bad = c;
  bad.keys = {{"k", "short"}};
  EXPECT_THROW(validate(bad), BadInput);
  bad = c;
  bad.keys = {{"k", std::string(kMinSecretLength - 1, 'x')}};  // 31 characters
  try {
    validate(bad);
    ADD_FAILURE() << "a 31-character secret was accepted";
  } catch (const BadInput& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("keys"), std::string::npos) << m;  // names the setting
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;    // one line
  }
  bad.development = true;  // --dev keeps devkey / secret
  EXPECT_NO_THROW(validate(bad));
  bad = c;
  bad.webhook.urls = {"http://x"};
  bad.webhook.api_key = "missing";
  EXPECT_THROW(validate(bad), BadInput);
}

}  // namespace
}  // namespace parlor::config
