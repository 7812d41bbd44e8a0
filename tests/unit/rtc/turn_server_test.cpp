#include "rtc/turn/turn_server.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/encoding.hpp"
#include "rtc/byte_io.hpp"

namespace parlor::rtc {
namespace {

using Clock = TurnServer::Clock;
constexpr char kSecret[] = "turn-secret";
constexpr char kRealm[] = "parlor";

struct Sent {
  std::vector<uint8_t> data;
  UdpEndpoint to;
  uint16_t media_port = 0;  // deliver_to_media: which worker's port
};

class RecordingSink : public TurnServer::Sink {
 public:
  void send_to_client(std::span<const uint8_t> data, const UdpEndpoint& client) override {
    to_client.push_back({{data.begin(), data.end()}, client});
  }
  void deliver_to_media(std::span<uint8_t> data, const UdpEndpoint& relay, uint16_t media_port) override {
    to_media.push_back({{data.begin(), data.end()}, relay, media_port});
  }
  std::vector<Sent> to_client, to_media;
};

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string long_term_key(const TurnCredentials& c) {
  std::string text = c.username + ":" + kRealm + ":" + c.password;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), len);
}

StunAddress address(const std::string& ip, uint16_t port) {
  auto e = UdpEndpoint::from(ip, port);
  StunAddress a;
  auto* v4 = reinterpret_cast<const sockaddr_in*>(&e.addr);
  std::memcpy(a.ip.data(), &v4->sin_addr, 4);
  a.port = port;
  return a;
}

// A minimal TURN client: builds requests with the long-term credential once it has a nonce.
class TurnServerTest : public ::testing::Test {
 protected:
  TurnServerTest() {
    TurnServer::Options o;
    o.realm = kRealm;
    o.secret = kSecret;
    o.media = UdpEndpoint::from("10.0.0.5", 7882);
    o.max_allocations_per_user = 2;
    options_ = o;
    server_ = std::make_unique<TurnServer>(o, sink_);
    credentials_ = make_turn_credentials(kSecret, "alice", unix_now() + 3600);
  }

  using Build = std::function<void(StunMessageBuilder&)>;

  // Sends one request; returns the response parsed (its bytes stay in sink_.to_client).
  StunMessageView request(uint16_t method, const Build& attributes, bool authenticate = true,
                          const UdpEndpoint* from = nullptr, const std::string* key = nullptr) {
    std::array<uint8_t, 12> txid{};
    txid[0] = static_cast<uint8_t>(++txid_counter_);
    StunMessageBuilder b(buffer_, method, StunClass::kRequest, txid);
    if (attributes) attributes(b);
    if (authenticate) {
      b.add_string(stun_attr::kUsername, credentials_.username);
      b.add_string(stun_attr::kRealm, kRealm);
      b.add_string(stun_attr::kNonce, nonce_);
      b.add_integrity(key ? *key : long_term_key(credentials_));
    }
    std::vector<uint8_t> packet(b.bytes().begin(), b.bytes().end());
    size_t before = sink_.to_client.size();
    server_->on_client_packet(packet, from ? *from : client_, now_);
    EXPECT_EQ(sink_.to_client.size(), before + 1) << "one response per request";
    auto m = StunMessageView::parse(sink_.to_client.back().data);
    EXPECT_TRUE(m.has_value());
    return *m;
  }

  void get_nonce() {
    auto m = request(turn_method::kAllocate, nullptr, false);
    ASSERT_EQ(m.message_class(), StunClass::kError);
    ASSERT_EQ(m.error_code(), 401);
    auto n = m.attribute(stun_attr::kNonce);
    ASSERT_TRUE(n);
    nonce_.assign(reinterpret_cast<const char*>(n->data()), n->size());
    auto r = m.attribute(stun_attr::kRealm);
    ASSERT_TRUE(r);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(r->data()), r->size()), kRealm);
  }

  static void udp_transport(StunMessageBuilder& b) {
    const uint8_t udp[4] = {17, 0, 0, 0};
    b.add_attribute(stun_attr::kRequestedTransport, udp);
  }

  StunAddress allocate() {
    get_nonce();
    auto m = request(turn_method::kAllocate, udp_transport);
    EXPECT_EQ(m.message_class(), StunClass::kSuccess);
    EXPECT_TRUE(m.check_integrity(long_term_key(credentials_)));
    auto relayed = m.xor_address(stun_attr::kXorRelayedAddress);
    EXPECT_TRUE(relayed);
    return relayed.value_or(StunAddress{});
  }

  TurnServer::Options options_;
  RecordingSink sink_;
  std::unique_ptr<TurnServer> server_;
  TurnCredentials credentials_;
  std::string nonce_;
  UdpEndpoint client_ = UdpEndpoint::from("192.0.2.10", 50000);
  Clock::time_point now_ = Clock::now();
  std::array<uint8_t, 1500> buffer_{};
  int txid_counter_ = 0;
};

TEST_F(TurnServerTest, AllocatesAVirtualRelayOnTheMediaAddressAfterTheNonceChallenge) {
  StunAddress relayed = allocate();
  EXPECT_EQ(relayed.ip, address("10.0.0.5", 1).ip);
  EXPECT_GE(relayed.port, 49152);
  EXPECT_EQ(server_->allocations(), 1u);
  EXPECT_EQ(server_->counters().allocations_created, 1u);
}

TEST_F(TurnServerTest, RefusesWrongExpiredAndForeignCredentials) {
  get_nonce();
  std::string wrong_key = "0123456789abcdef";
  auto m = request(turn_method::kAllocate, udp_transport, true, nullptr, &wrong_key);
  EXPECT_EQ(m.error_code(), 401);
  credentials_ = make_turn_credentials(kSecret, "alice", unix_now() - 1);  // expired
  m = request(turn_method::kAllocate, udp_transport);
  EXPECT_EQ(m.error_code(), 401);
  credentials_ = make_turn_credentials("another-secret", "alice", unix_now() + 60);
  m = request(turn_method::kAllocate, udp_transport);
  EXPECT_EQ(m.error_code(), 401);
  EXPECT_EQ(server_->allocations(), 0u);
  EXPECT_EQ(server_->counters().auth_failures, 3u);
}

TEST_F(TurnServerTest, ANonceFromAnotherClientIsStale) {
  get_nonce();
  UdpEndpoint other = UdpEndpoint::from("192.0.2.11", 50000);
  auto m = request(turn_method::kAllocate, udp_transport, true, &other);
  EXPECT_EQ(m.error_code(), 438);
  EXPECT_TRUE(m.attribute(stun_attr::kNonce));
}

TEST_F(TurnServerTest, RelaysOnlyToTheMediaAddress) {
  allocate();
  for (const char* ip : {"127.0.0.1", "169.254.169.254", "10.0.0.6", "8.8.8.8"}) {
    auto m = request(turn_method::kCreatePermission, [&](StunMessageBuilder& b) {
      b.add_xor_address(stun_attr::kXorPeerAddress, address(ip, 7882));
    });
    EXPECT_EQ(m.error_code(), 403) << ip;
  }
  auto wrong_port = request(turn_method::kChannelBind, [&](StunMessageBuilder& b) {
    b.add_u32(stun_attr::kChannelNumber, 0x40000000);
    b.add_xor_address(stun_attr::kXorPeerAddress, address("10.0.0.5", 22));
  });
  EXPECT_EQ(wrong_port.error_code(), 403);
  EXPECT_EQ(server_->counters().forbidden_peers, 5u);
  auto ok = request(turn_method::kCreatePermission, [&](StunMessageBuilder& b) {
    b.add_xor_address(stun_attr::kXorPeerAddress, address("10.0.0.5", 7882));
  });
  EXPECT_EQ(ok.message_class(), StunClass::kSuccess);
}

TEST_F(TurnServerTest, SendIndicationsAndChannelDataReachTheMediaFromTheRelayedAddress) {
  StunAddress relayed = allocate();
  // Without a permission a Send indication is dropped.
  auto send_indication = [&](const StunAddress& peer, const std::string& payload) {
    std::array<uint8_t, 12> txid{9};
    StunMessageBuilder b(buffer_, turn_method::kSend, StunClass::kIndication, txid);
    b.add_xor_address(stun_attr::kXorPeerAddress, peer);
    b.add_attribute(stun_attr::kData, common::as_bytes(payload));
    std::vector<uint8_t> packet(b.bytes().begin(), b.bytes().end());
    server_->on_client_packet(packet, client_, now_);
  };
  send_indication(address("10.0.0.5", 7882), "early");
  EXPECT_TRUE(sink_.to_media.empty());
  request(turn_method::kCreatePermission, [&](StunMessageBuilder& b) {
    b.add_xor_address(stun_attr::kXorPeerAddress, address("10.0.0.5", 7882));
  });
  send_indication(address("10.0.0.6", 7882), "elsewhere");
  EXPECT_TRUE(sink_.to_media.empty());
  send_indication(address("10.0.0.5", 7882), "hello media");
  ASSERT_EQ(sink_.to_media.size(), 1u);
  EXPECT_EQ(std::string(sink_.to_media[0].data.begin(), sink_.to_media[0].data.end()), "hello media");
  EXPECT_EQ(sink_.to_media[0].to.via, Via::kTurn);
  EXPECT_EQ(sink_.to_media[0].to.to_string(), "10.0.0.5:" + std::to_string(relayed.port) + "/turn");

  // The media answers the relayed address: a Data indication from the media address.
  std::string answer = "answer";
  ASSERT_TRUE(server_->on_media_packet(common::as_bytes(answer), sink_.to_media[0].to, now_));
  auto data = StunMessageView::parse(sink_.to_client.back().data);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->method(), turn_method::kData);
  EXPECT_EQ(data->message_class(), StunClass::kIndication);
  EXPECT_EQ(data->xor_address(stun_attr::kXorPeerAddress)->port, 7882);
  auto payload = data->attribute(stun_attr::kData);
  EXPECT_EQ(std::string(payload->begin(), payload->end()), "answer");

  // After ChannelBind both directions use ChannelData.
  auto bound = request(turn_method::kChannelBind, [&](StunMessageBuilder& b) {
    b.add_u32(stun_attr::kChannelNumber, 0x40010000);
    b.add_xor_address(stun_attr::kXorPeerAddress, address("10.0.0.5", 7882));
  });
  ASSERT_EQ(bound.message_class(), StunClass::kSuccess);
  std::vector<uint8_t> channel_data = {0x40, 0x01, 0x00, 0x03, 'a', 'b', 'c'};
  server_->on_client_packet(channel_data, client_, now_);
  ASSERT_EQ(sink_.to_media.size(), 2u);
  EXPECT_EQ(std::string(sink_.to_media[1].data.begin(), sink_.to_media[1].data.end()), "abc");
  ASSERT_TRUE(server_->on_media_packet(common::as_bytes(answer), sink_.to_media[0].to, now_));
  const auto& out = sink_.to_client.back().data;
  ASSERT_EQ(out.size(), 4u + answer.size());  // UDP: no padding
  EXPECT_EQ(read_u16(out, 0), 0x4001);
  EXPECT_EQ(read_u16(out, 2), answer.size());
  // ChannelData on a channel that is not bound goes nowhere.
  std::vector<uint8_t> other_channel = {0x40, 0x02, 0x00, 0x01, 'x'};
  server_->on_client_packet(other_channel, client_, now_);
  EXPECT_EQ(sink_.to_media.size(), 2u);
}

// Several media workers, one UDP port each: the relay reaches every worker's port (and only
// those), delivers to the port the client addressed, and answers from the port that sent.
TEST_F(TurnServerTest, SeveralMediaPortsAreEachReachableAndNothingElse) {
  TurnServer::Options o = options_;
  o.media_ports = {7883, 7884};
  server_ = std::make_unique<TurnServer>(o, sink_);
  allocate();
  auto send_indication = [&](StunAddress peer, const std::string& payload) {
    std::array<uint8_t, 12> txid{9};
    StunMessageBuilder b(buffer_, turn_method::kSend, StunClass::kIndication, txid);
    b.add_xor_address(stun_attr::kXorPeerAddress, peer);
    b.add_attribute(stun_attr::kData, common::as_bytes(payload));
    std::vector<uint8_t> packet(b.bytes().begin(), b.bytes().end());
    server_->on_client_packet(packet, client_, now_);
  };
  request(turn_method::kCreatePermission, [&](StunMessageBuilder& b) {
    b.add_xor_address(stun_attr::kXorPeerAddress, address("10.0.0.5", 7884));
  });
  send_indication(address("10.0.0.5", 7884), "to worker 2");
  send_indication(address("10.0.0.5", 7882), "to worker 0");
  send_indication(address("10.0.0.5", 7885), "to no worker");
  ASSERT_EQ(sink_.to_media.size(), 2u);
  EXPECT_EQ(sink_.to_media[0].media_port, 7884);
  EXPECT_EQ(sink_.to_media[1].media_port, 7882);
  EXPECT_EQ(server_->counters().forbidden_peers, 1u);

  // Worker 2 answers: the Data indication names its port.
  std::string answer = "from worker 2";
  ASSERT_TRUE(server_->on_media_packet(common::as_bytes(answer), sink_.to_media[0].to, now_, 7884));
  auto data = StunMessageView::parse(sink_.to_client.back().data);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->xor_address(stun_attr::kXorPeerAddress)->port, 7884);

  // A channel is bound to one worker's port: ChannelData goes there, and that worker's answers
  // come back as ChannelData; another port's as Data indications.
  auto bound = request(turn_method::kChannelBind, [&](StunMessageBuilder& b) {
    b.add_u32(stun_attr::kChannelNumber, 0x40010000);
    b.add_xor_address(stun_attr::kXorPeerAddress, address("10.0.0.5", 7883));
  });
  ASSERT_EQ(bound.message_class(), StunClass::kSuccess);
  auto rebound = request(turn_method::kChannelBind, [&](StunMessageBuilder& b) {
    b.add_u32(stun_attr::kChannelNumber, 0x40010000);
    b.add_xor_address(stun_attr::kXorPeerAddress, address("10.0.0.5", 7882));
  });
  EXPECT_EQ(rebound.error_code(), 400) << "a channel stays bound to its peer";
  std::vector<uint8_t> channel_data = {0x40, 0x01, 0x00, 0x03, 'a', 'b', 'c'};
  server_->on_client_packet(channel_data, client_, now_);
  ASSERT_EQ(sink_.to_media.size(), 3u);
  EXPECT_EQ(sink_.to_media[2].media_port, 7883);
  ASSERT_TRUE(server_->on_media_packet(common::as_bytes(answer), sink_.to_media[0].to, now_, 7883));
  EXPECT_EQ(read_u16(sink_.to_client.back().data, 0), 0x4001);
  ASSERT_TRUE(server_->on_media_packet(common::as_bytes(answer), sink_.to_media[0].to, now_, 7882));
  auto other = StunMessageView::parse(sink_.to_client.back().data);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->method(), turn_method::kData);
  EXPECT_EQ(other->xor_address(stun_attr::kXorPeerAddress)->port, 7882);
}

TEST_F(TurnServerTest, StreamClientsGetPaddedChannelData) {
  client_.via = Via::kTcp;
  allocate();
  request(turn_method::kChannelBind, [&](StunMessageBuilder& b) {
    b.add_u32(stun_attr::kChannelNumber, 0x40000000);
    b.add_xor_address(stun_attr::kXorPeerAddress, address("10.0.0.5", 7882));
  });
  UdpEndpoint relay;
  std::vector<uint8_t> probe = {0x40, 0x00, 0x00, 0x01, 'x', 0, 0, 0};
  server_->on_client_packet(probe, client_, now_);
  ASSERT_EQ(sink_.to_media.size(), 1u);
  relay = sink_.to_media[0].to;
  std::string five = "12345";
  ASSERT_TRUE(server_->on_media_packet(common::as_bytes(five), relay, now_));
  EXPECT_EQ(sink_.to_client.back().data.size(), 12u);  // 4 + 5, padded to 4
}

TEST_F(TurnServerTest, RefreshWithZeroLifetimeAndExpiryEndTheAllocation) {
  allocate();
  auto m = request(turn_method::kRefresh, [](StunMessageBuilder& b) { b.add_u32(stun_attr::kLifetime, 0); });
  EXPECT_EQ(m.message_class(), StunClass::kSuccess);
  EXPECT_EQ(server_->allocations(), 0u);
  allocate();
  server_->sweep(now_ + std::chrono::seconds(601));
  EXPECT_EQ(server_->allocations(), 0u);
}

TEST_F(TurnServerTest, AllocationsPerUserAreBounded) {
  allocate();
  for (uint16_t port : {50001, 50002}) {
    UdpEndpoint other = UdpEndpoint::from("192.0.2.10", port);
    client_ = other;
    get_nonce();
    auto m = request(turn_method::kAllocate, udp_transport);
    if (port == 50001) {
      EXPECT_EQ(m.message_class(), StunClass::kSuccess);
    } else {
      EXPECT_EQ(m.error_code(), 486);
    }
  }
  EXPECT_EQ(server_->allocations(), 2u);
  EXPECT_EQ(server_->counters().quota_refusals, 1u);
}

TEST_F(TurnServerTest, OnlyUdpRelayingIsOffered) {
  get_nonce();
  auto m = request(turn_method::kAllocate, [](StunMessageBuilder& b) {
    const uint8_t tcp[4] = {6, 0, 0, 0};
    b.add_attribute(stun_attr::kRequestedTransport, tcp);
  });
  EXPECT_EQ(m.error_code(), 442);
}

TEST_F(TurnServerTest, MalformedInputIsCountedAndIgnored) {
  std::vector<std::vector<uint8_t>> junk = {
      {}, {0x00}, {0x40, 0x00, 0xff, 0xff, 1}, {0x00, 0x01, 0x00, 0x08, 1, 2, 3}, std::vector<uint8_t>(40, 0xff)};
  for (auto& j : junk) server_->on_client_packet(j, client_, now_);
  EXPECT_TRUE(sink_.to_client.empty());
  EXPECT_TRUE(sink_.to_media.empty());
  EXPECT_GE(server_->counters().malformed, 3u);
}

TEST(TurnCredentials, FollowTheRestScheme) {
  auto c = make_turn_credentials("secret", "bob", 1700000000);
  EXPECT_EQ(c.username, "1700000000:bob");
  // base64(HMAC-SHA1("secret", username)), as coturn's use-auth-secret computes it (from the
  // openssl command line: echo -n 1700000000:bob | openssl dgst -sha1 -hmac secret -binary | base64).
  EXPECT_EQ(c.password, "YeMuUjjOaxvglmPbYS9o30UEIYg=");
  EXPECT_NE(c.password, make_turn_credentials("secret", "bob", 1700000001).password);
}

}  // namespace
}  // namespace parlor::rtc
