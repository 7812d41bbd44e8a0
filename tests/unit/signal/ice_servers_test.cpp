#include "signal/ice_servers.hpp"

#include <gtest/gtest.h>

namespace parlor::signal {
namespace {

TEST(IceServers, NoneWithoutTurn) {
  config::MediaConfig c;
  google::protobuf::RepeatedPtrField<livekit::ICEServer> out;
  fill_ice_servers(c, {"127.0.0.1", 0, 0}, "alice", 1000, out);
  EXPECT_EQ(out.size(), 0);
  livekit::ClientConfiguration cc;
  fill_client_configuration(c, cc);
  EXPECT_EQ(cc.force_relay(), livekit::ClientConfigSetting::UNSET);
}

TEST(IceServers, OwnTurnWithPerParticipantCredentials) {
  config::MediaConfig c;
  c.turn.enabled = true;
  c.turn.secret = "secret";
  c.turn.credential_ttl_seconds = 600;
  google::protobuf::RepeatedPtrField<livekit::ICEServer> out;
  fill_ice_servers(c, {"203.0.113.7", 3478, 5349}, "alice", 1000, out);
  ASSERT_EQ(out.size(), 2);
  EXPECT_EQ(out[0].urls(0), "turn:203.0.113.7:3478?transport=udp");
  EXPECT_EQ(out[1].urls(0), "turns:203.0.113.7:5349?transport=tcp");
  EXPECT_EQ(out[0].username(), "1600:alice");
  EXPECT_EQ(out[0].credential(), out[1].credential());
  google::protobuf::RepeatedPtrField<livekit::ICEServer> bob;
  fill_ice_servers(c, {"203.0.113.7", 3478, 5349}, "bob", 1000, bob);
  EXPECT_NE(bob[0].credential(), out[0].credential());
}

TEST(IceServers, DomainListenersActuallyServedAndIpv6) {
  config::MediaConfig c;
  c.turn.enabled = true;
  c.turn.secret = "s";
  google::protobuf::RepeatedPtrField<livekit::ICEServer> out;
  fill_ice_servers(c, {"::1", 3478, 0}, "alice", 1000, out);  // TLS not served
  ASSERT_EQ(out.size(), 1);
  EXPECT_EQ(out[0].urls(0), "turn:[::1]:3478?transport=udp");
  c.turn.domain = "turn.example.org";
  out.Clear();
  fill_ice_servers(c, {"::1", 3478, 443}, "alice", 1000, out);
  EXPECT_EQ(out[1].urls(0), "turns:turn.example.org:443?transport=tcp");
}

TEST(IceServers, ExternalServersStaticOrSharedSecret) {
  config::MediaConfig c;
  c.rtc.turn_servers.push_back({"turn.example.org", 443, "tls", "", "", "shared"});
  c.rtc.turn_servers.push_back({"10.1.1.1", 3478, "udp", "user", "pass", ""});
  c.rtc.force_relay = true;
  google::protobuf::RepeatedPtrField<livekit::ICEServer> out;
  fill_ice_servers(c, {"127.0.0.1", 0, 0}, "alice", 1000, out);
  ASSERT_EQ(out.size(), 2);
  EXPECT_EQ(out[0].urls(0), "turns:turn.example.org:443?transport=tcp");
  EXPECT_EQ(out[0].username(), "44200:alice");
  EXPECT_EQ(out[1].urls(0), "turn:10.1.1.1:3478?transport=udp");
  EXPECT_EQ(out[1].username(), "user");
  EXPECT_EQ(out[1].credential(), "pass");
  livekit::ClientConfiguration cc;
  fill_client_configuration(c, cc);
  EXPECT_EQ(cc.force_relay(), livekit::ClientConfigSetting::ENABLED);
}

}  // namespace
}  // namespace parlor::signal
