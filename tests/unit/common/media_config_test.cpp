#include "common/config/media_config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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

TEST(MediaConfig, PeerTimeoutsParseAndValidate) {
  MediaConfig c;
  EXPECT_EQ(c.rtc.peer_silence_timeout_seconds, 3);
  EXPECT_EQ(c.rtc.ice_consent_timeout_seconds, 10);
  apply_yaml(c, "rtc:\n  peer_silence_timeout: 2.5\n  ice_consent_timeout: 20\n");
  EXPECT_EQ(c.rtc.peer_silence_timeout_seconds, 2.5);
  EXPECT_EQ(c.rtc.ice_consent_timeout_seconds, 20);
  apply_yaml(c, "rtc:\n  consent_timeout: 30\n");  // the older key still reads
  EXPECT_EQ(c.rtc.ice_consent_timeout_seconds, 30);
  EXPECT_THROW(apply_yaml(c, "rtc:\n  peer_silence_timeout: soon\n"), BadInput);

  c.keys = {{"k", std::string(kMinSecretLength, 'x')}};
  EXPECT_NO_THROW(validate(c));
  for (double bad : {0.0, -1.0, 1e9}) {
    auto b = c;
    b.rtc.peer_silence_timeout_seconds = bad;
    EXPECT_THROW(validate(b), BadInput) << bad;
    b = c;
    b.rtc.ice_consent_timeout_seconds = bad;
    EXPECT_THROW(validate(b), BadInput) << bad;
  }
}

TEST(MediaConfig, CongestionControlParsesAndValidates) {
  MediaConfig c;
  EXPECT_TRUE(c.rtc.congestion_control.enabled);
  EXPECT_EQ(c.rtc.congestion_control.initial_bitrate, 1'000'000u);
  apply_yaml(c, "rtc:\n  congestion_control:\n    enabled: false\n    allow_pause: false\n"
                "    min_bitrate: 50000\n    max_bitrate: 3000000\n    initial_bitrate: 600000\n    raise_after: 5\n");
  const auto& cc = c.rtc.congestion_control;
  EXPECT_FALSE(cc.enabled);
  EXPECT_FALSE(cc.allow_pause);
  EXPECT_EQ(cc.min_bitrate, 50'000u);
  EXPECT_EQ(cc.max_bitrate, 3'000'000u);
  EXPECT_EQ(cc.initial_bitrate, 600'000u);
  EXPECT_EQ(cc.raise_after, 5);
  try {
    apply_yaml(c, "rtc:\n  congestion_control:\n    probe: true\n");
    FAIL();
  } catch (const BadInput& e) {
    EXPECT_STREQ(e.what(), "config: unknown key 'rtc.congestion_control.probe'");
  }
  c.keys = {{"k", std::string(kMinSecretLength, 'x')}};
  EXPECT_NO_THROW(validate(c));
  auto b = c;
  b.rtc.congestion_control.initial_bitrate = 4'000'000;  // above the max
  EXPECT_THROW(validate(b), BadInput);
  b = c;
  b.rtc.congestion_control.min_bitrate = 1'000;  // below the floor
  EXPECT_THROW(validate(b), BadInput);
  b = c;
  b.rtc.congestion_control.raise_after = -1;
  EXPECT_THROW(validate(b), BadInput);
  EXPECT_EQ(c.rtc.congestion_control.probe_mode, "padding");
  apply_yaml(c, "rtc:\n  congestion_control:\n    probe_mode: none\n");
  EXPECT_NO_THROW(validate(c));
  b = c;
  b.rtc.congestion_control.probe_mode = "media";  // LiveKit's other mode: not built, refused
  EXPECT_THROW(validate(b), BadInput);
}

TEST(MediaConfig, TurnAndExternalTurnServers) {
  MediaConfig c;
  apply_yaml(c,
             "turn:\n  enabled: true\n  udp_port: 3479\n  tls_port: 443\n  cert_file: /c.pem\n"
             "  key_file: /k.pem\n  secret: s\n  credential_ttl: 600\n  relay_range_start: 30000\n"
             "rtc:\n  force_relay: true\n  turn_servers:\n    - host: turn.example.org\n      port: 443\n"
             "      protocol: tls\n      secret: shared\n    - host: 10.0.0.1\n      username: u\n"
             "      credential: p\n");
  EXPECT_TRUE(c.turn.enabled);
  EXPECT_EQ(c.turn.udp_port, 3479);
  EXPECT_EQ(c.turn.tls_port, 443);
  EXPECT_EQ(c.turn.cert_file, "/c.pem");
  EXPECT_EQ(c.turn.credential_ttl_seconds, 600u);
  ASSERT_EQ(c.rtc.turn_servers.size(), 2u);
  EXPECT_EQ(c.rtc.turn_servers[0].protocol, "tls");
  EXPECT_EQ(c.rtc.turn_servers[0].secret, "shared");
  EXPECT_EQ(c.rtc.turn_servers[1].port, 3478);  // default
  EXPECT_EQ(c.rtc.turn_servers[1].protocol, "udp");
  EXPECT_TRUE(c.rtc.force_relay);
  c.keys = {{"k", std::string(kMinSecretLength, 'x')}};
  EXPECT_NO_THROW(validate(c));

  MediaConfig bad;
  EXPECT_THROW(apply_yaml(bad, "rtc:\n  turn_servers:\n    - host: h\n      protocol: sctp\n"), BadInput);
  EXPECT_THROW(apply_yaml(bad, "rtc:\n  turn_servers:\n    - port: 3478\n"), BadInput);
  EXPECT_THROW(apply_yaml(bad, "rtc:\n  turn_servers:\n    - host: h\n      passwd: x\n"), BadInput);
  EXPECT_THROW(apply_yaml(bad, "rtc:\n  turn_servers: h\n"), BadInput);
  MediaConfig relay;
  relay.keys = c.keys;
  relay.rtc.force_relay = true;
  EXPECT_THROW(validate(relay), BadInput);  // force_relay without any TURN
  relay.turn.enabled = true;
  relay.turn.cert_file = "/c.pem";
  EXPECT_THROW(validate(relay), BadInput);  // a certificate without its key
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

TEST(MediaConfig, ParticipantLimitsHaveSafeDefaults) {
  LimitConfig l;
  EXPECT_EQ(l.num_tracks, 16u);
  EXPECT_EQ(l.max_track_name_length, 256u);
  EXPECT_EQ(l.max_track_layers, 4u);
  EXPECT_EQ(l.max_track_codecs, 4u);
  EXPECT_EQ(l.max_attributes_count, 64u);
  EXPECT_EQ(l.subscription_limit_video, 100u);
  EXPECT_EQ(l.subscription_limit_audio, 100u);
  EXPECT_EQ(l.max_track_permissions, 1000u);
  EXPECT_EQ(l.ws_send_queue_bytes, 16u << 20);
  EXPECT_EQ(l.signal_messages_per_second, 50u);
  EXPECT_EQ(l.signal_burst, 200u);
  EXPECT_EQ(l.max_ws_connections_per_ip, 64u);
  EXPECT_EQ(l.max_ws_connections_per_room, 1000u);
  EXPECT_EQ(l.data_packets_per_second, 200u);
  EXPECT_EQ(l.data_bytes_per_second, 1u << 20);
  MediaConfig c;
  c.keys = {{"k", std::string(kMinSecretLength, 'x')}};
  EXPECT_NO_THROW(validate(c));
}

TEST(MediaConfig, ParticipantLimitsFromYaml) {
  MediaConfig c;
  apply_yaml(
      c,
      "limit:\n  num_tracks: 3\n  max_track_name_length: 10\n  max_track_layers: 2\n"
      "  max_track_codecs: 1\n  max_attributes_count: 5\n  subscription_limit_video: 7\n"
      "  subscription_limit_audio: 8\n  ws_send_queue_bytes: 2097152\n  "
      "signal_messages_per_second: 9\n"
      "  signal_burst: 11\n  max_ws_connections_per_ip: 2\n  max_ws_connections_per_room: 4\n"
      "  data_packets_per_second: 12\n  data_bytes_per_second: 70000\n  max_track_permissions: 13\n");
  EXPECT_EQ(c.limit.num_tracks, 3u);
  EXPECT_EQ(c.limit.max_track_name_length, 10u);
  EXPECT_EQ(c.limit.max_track_layers, 2u);
  EXPECT_EQ(c.limit.max_track_codecs, 1u);
  EXPECT_EQ(c.limit.max_attributes_count, 5u);
  EXPECT_EQ(c.limit.subscription_limit_video, 7u);
  EXPECT_EQ(c.limit.subscription_limit_audio, 8u);
  EXPECT_EQ(c.limit.ws_send_queue_bytes, 2097152u);
  EXPECT_EQ(c.limit.signal_messages_per_second, 9u);
  EXPECT_EQ(c.limit.signal_burst, 11u);
  EXPECT_EQ(c.limit.max_ws_connections_per_ip, 2u);
  EXPECT_EQ(c.limit.max_ws_connections_per_room, 4u);
  EXPECT_EQ(c.limit.data_packets_per_second, 12u);
  EXPECT_EQ(c.limit.data_bytes_per_second, 70000u);
  EXPECT_EQ(c.limit.max_track_permissions, 13u);
  EXPECT_EQ(c.limit.max_metadata_size, 64000u);  // untouched default
  EXPECT_THROW(apply_yaml(c, "limit:\n  signal_burst: lots\n"), BadInput);
  EXPECT_THROW(apply_yaml(c, "limit:\n  num_trakcs: 3\n"), BadInput);
}

TEST(MediaConfig, ParticipantLimitsRefuseZeroAndInconsistentValues) {
  MediaConfig c;
  c.keys = {{"k", std::string(kMinSecretLength, 'x')}};
  auto expect_refused = [&](auto change, const char* key) {
    auto bad = c;
    change(bad.limit);
    try {
      validate(bad);
      ADD_FAILURE() << key << " = 0 was accepted";
    } catch (const BadInput& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  expect_refused([](LimitConfig& l) { l.num_tracks = 0; }, "num_tracks");
  expect_refused([](LimitConfig& l) { l.max_track_name_length = 0; }, "max_track_name_length");
  expect_refused([](LimitConfig& l) { l.max_track_layers = 0; }, "max_track_layers");
  expect_refused([](LimitConfig& l) { l.max_attributes_count = 0; }, "max_attributes_count");
  expect_refused([](LimitConfig& l) { l.subscription_limit_video = 0; },
                 "subscription_limit_video");
  expect_refused([](LimitConfig& l) { l.subscription_limit_audio = 0; },
                 "subscription_limit_audio");
  expect_refused([](LimitConfig& l) { l.signal_messages_per_second = 0; },
                 "signal_messages_per_second");
  expect_refused([](LimitConfig& l) { l.signal_burst = 0; }, "signal_burst");
  expect_refused([](LimitConfig& l) { l.max_track_permissions = 0; }, "max_track_permissions");
  expect_refused([](LimitConfig& l) { l.max_ws_connections_per_ip = 0; },
                 "max_ws_connections_per_ip");
  expect_refused([](LimitConfig& l) { l.max_ws_connections_per_room = 0; },
                 "max_ws_connections_per_room");
  expect_refused([](LimitConfig& l) { l.data_packets_per_second = 0; }, "data_packets_per_second");
  expect_refused([](LimitConfig& l) { l.data_bytes_per_second = 0; }, "data_bytes_per_second");
  // A queue smaller than one message, or a byte rate below one packet, could never pass anything.
  expect_refused([](LimitConfig& l) { l.ws_send_queue_bytes = l.max_ws_message_bytes - 1; },
                 "ws_send_queue_bytes");
  expect_refused([](LimitConfig& l) { l.data_bytes_per_second = l.max_data_packet_bytes - 1; },
                 "data_bytes_per_second");
}

TEST(MediaConfig, TlsSectionParsesAndValidates) {
  MediaConfig c;
  EXPECT_FALSE(c.tls.enabled());
  apply_yaml(c,
             "tls:\n  cert_file: /etc/parlor/cert.pem\n  key_file: /etc/parlor/key.pem\n"
             "  hsts_max_age: 600\n  reload_interval_ms: 2000\n  handshake_timeout_seconds: 5\n"
             "webhook:\n  ca_file: /etc/parlor/ca.pem\n");
  EXPECT_TRUE(c.tls.enabled());
  EXPECT_EQ(c.tls.cert_file, "/etc/parlor/cert.pem");
  EXPECT_EQ(c.tls.key_file, "/etc/parlor/key.pem");
  EXPECT_EQ(c.tls.hsts_max_age, 600u);
  EXPECT_EQ(c.tls.reload_interval_ms, 2000u);
  EXPECT_EQ(c.tls.handshake_timeout_seconds, 5u);
  EXPECT_EQ(c.webhook.ca_file, "/etc/parlor/ca.pem");
  EXPECT_NO_THROW(validate_tls(c.tls));
  try {
    apply_yaml(c, "tls:\n  certfile: x\n");
    FAIL();
  } catch (const BadInput& e) {
    EXPECT_STREQ(e.what(), "config: unknown key 'tls.certfile'");
  }
}

TEST(MediaConfig, TlsNeedsBothFilesAndSaneTimes) {
  TlsConfig t;
  EXPECT_NO_THROW(validate_tls(t));  // neither: plain HTTP
  t.cert_file = "cert.pem";
  EXPECT_THROW(validate_tls(t), BadInput);  // a certificate without its key
  t.key_file = "key.pem";
  EXPECT_NO_THROW(validate_tls(t));
  t.handshake_timeout_seconds = 0;
  EXPECT_THROW(validate_tls(t), BadInput);  // an unbounded handshake would be a slowloris hole
  t.handshake_timeout_seconds = 10;
  t.reload_interval_ms = 10;
  EXPECT_THROW(validate_tls(t), BadInput);
}

TEST(MediaConfig, TlsFilesFromTheEnvironment) {
  MediaConfig c;
  apply_env(c, {{"PARLOR_TLS_CERT", "/run/cert.pem"}, {"PARLOR_TLS_KEY", "/run/key.pem"}});
  EXPECT_EQ(c.tls.cert_file, "/run/cert.pem");
  EXPECT_EQ(c.tls.key_file, "/run/key.pem");
}

TEST(MediaConfig, TheSampleFileParsesWithItsTlsSection) {
  std::ifstream in(std::string(PARLOR_TEST_DATA_DIR) + "/../../config-sample.yaml");
  ASSERT_TRUE(in) << "config-sample.yaml not found";
  std::stringstream text;
  text << in.rdbuf();
  MediaConfig c;
  ASSERT_NO_THROW(apply_yaml(c, text.str()));
  EXPECT_FALSE(c.tls.enabled());  // shipped off: plain HTTP until files are named
  EXPECT_EQ(c.tls.hsts_max_age, 31536000u);
  EXPECT_EQ(c.tls.reload_interval_ms, 5000u);
  EXPECT_NO_THROW(validate_tls(c.tls));
}

}  // namespace
}  // namespace parlor::config
