// libFuzzer target: the TURN server. Each input is a sequence of messages (a 2-byte length, then
// the bytes) from one client that already holds an allocation, a permission and a channel to the
// media address (set up with valid credentials first, so the authenticated paths are reached),
// interleaved with packets the media side sends back to the relayed address.
#include <array>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <openssl/evp.h>

#include "rtc/byte_io.hpp"
#include "rtc/turn/turn_server.hpp"

namespace {
using namespace parlor::rtc;

class EchoSink : public TurnServer::Sink {
 public:
  void send_to_client(std::span<const uint8_t> data, const UdpEndpoint&) override { last_response.assign(data.begin(), data.end()); }
  void deliver_to_media(std::span<uint8_t> data, const UdpEndpoint& relay, uint16_t /*media_port*/) override {
    last_relay = relay;
    if (!data.empty()) data[0] ^= 0x01;  // the media path decrypts in place
  }
  std::vector<uint8_t> last_response;
  UdpEndpoint last_relay;
};

std::string key_for(const TurnCredentials& c) {
  std::string text = c.username + ":parlor:" + c.password;
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), d, &n, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<char*>(d), n);
}

std::vector<uint8_t> request(uint16_t method, const TurnCredentials& c, const std::string& nonce,
                             const std::function<void(StunMessageBuilder&)>& attrs) {
  std::array<uint8_t, 512> buf{};
  std::array<uint8_t, 12> txid{static_cast<uint8_t>(method)};
  StunMessageBuilder b(buf, method, StunClass::kRequest, txid);
  attrs(b);
  if (!nonce.empty()) {
    b.add_string(stun_attr::kUsername, c.username);
    b.add_string(stun_attr::kRealm, "parlor");
    b.add_string(stun_attr::kNonce, nonce);
    b.add_integrity(key_for(c));
  }
  return {b.bytes().begin(), b.bytes().end()};
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  EchoSink sink;
  TurnServer::Options o;
  o.secret = "fuzz";
  o.media = UdpEndpoint::from("10.0.0.5", 7882);
  TurnServer server(o, sink);
  UdpEndpoint client = UdpEndpoint::from("192.0.2.1", 40000);
  if (size > 0 && (data[0] & 1)) client.via = Via::kTcp;
  auto now = TurnServer::Clock::now();
  auto creds = make_turn_credentials("fuzz", "f", 4102444800);  // 2100-01-01
  StunAddress media;
  media.ip = {10, 0, 0, 5};
  media.port = 7882;
  const uint8_t udp[4] = {17, 0, 0, 0};
  auto first = request(turn_method::kAllocate, creds, "", [&](StunMessageBuilder& b) { b.add_attribute(stun_attr::kRequestedTransport, udp); });
  server.on_client_packet(first, client, now);
  std::string nonce;
  if (auto m = StunMessageView::parse(sink.last_response)) {
    if (auto n = m->attribute(stun_attr::kNonce)) nonce.assign(reinterpret_cast<const char*>(n->data()), n->size());
  }
  if (!nonce.empty()) {
    auto alloc = request(turn_method::kAllocate, creds, nonce, [&](StunMessageBuilder& b) { b.add_attribute(stun_attr::kRequestedTransport, udp); });
    server.on_client_packet(alloc, client, now);
    auto bind = request(turn_method::kChannelBind, creds, nonce, [&](StunMessageBuilder& b) {
      b.add_u32(stun_attr::kChannelNumber, 0x40000000);
      b.add_xor_address(stun_attr::kXorPeerAddress, media);
    });
    server.on_client_packet(bind, client, now);
  }
  // The fuzzed part: messages from the client, and media echoed back to the relayed address.
  size_t at = 1;
  std::vector<uint8_t> message;
  while (at + 2 <= size) {
    size_t len = parlor::rtc::read_u16({data, size}, at) % 1600;
    at += 2;
    len = std::min(len, size - at);
    message.assign(data + at, data + at + len);
    at += len;
    server.on_client_packet(message, client, now);
    if (sink.last_relay.len) server.on_media_packet(message, sink.last_relay, now);
    now += std::chrono::seconds(message.empty() ? 0 : message[0] % 8);
    server.sweep(now);
  }
  return 0;
}
