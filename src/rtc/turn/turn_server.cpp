#include "rtc/turn/turn_server.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/encoding.hpp"
#include "rtc/byte_io.hpp"

namespace parlor::rtc {

namespace {

constexpr uint8_t kUdpProtocol = 17;           // REQUESTED-TRANSPORT value for UDP
constexpr uint16_t kFirstChannel = 0x4000;     // RFC 8656 §12
constexpr uint16_t kLastChannel = 0x4FFF;
constexpr size_t kChannelHeader = 4;
constexpr uint16_t kFirstRelayPort = 49152;    // virtual relayed ports: the dynamic range
constexpr uint32_t kRelayPorts = 16384;
constexpr auto kPermissionLifetime = std::chrono::seconds(300);  // RFC 8656 §9
constexpr auto kChannelLifetime = std::chrono::seconds(600);     // RFC 8656 §12
constexpr auto kSweepInterval = std::chrono::seconds(1);
constexpr size_t kNonceMacHex = 16;
constexpr uint16_t kAddressFamilyV6 = 0x02;

UdpEndpoint with_port(UdpEndpoint e, uint16_t port) {
  if (e.addr.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&e.addr)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&e.addr)->sin6_port = htons(port);
  }
  return e;
}

std::string hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 0xf]);
  }
  return s;
}

std::string hmac_sha1_bytes(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::string md5(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string password_for(std::string_view secret, std::string_view username) {
  std::string mac = hmac_sha1_bytes(secret, username);
  return common::base64_encode(common::as_bytes(mac));
}

// "<unix expiry>:<anything>" -> expiry; nullopt if the username is not of that form.
std::optional<int64_t> username_expiry(std::string_view username) {
  auto colon = username.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(username.data(), username.data() + colon, v);
  if (ec != std::errc() || end != username.data() + colon) return std::nullopt;
  return v;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view as_text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace

TurnCredentials make_turn_credentials(std::string_view secret, std::string_view participant,
                                      int64_t expires_unix) {
  TurnCredentials c;
  c.username = std::to_string(expires_unix) + ":" + std::string(participant);
  c.password = password_for(secret, c.username);
  return c;
}

struct TurnServer::Allocation {
  UdpEndpoint client;
  UdpEndpoint relay;  // Via::kTurn, the media address's ip and a virtual port
  std::string username;
  std::string key;    // MD5(username:realm:password), the long-term credential key
  std::array<uint8_t, 12> allocate_txid{};
  Clock::time_point expires{};
  Clock::time_point permission_expires{};  // for the media address (the only permitted peer)
  uint16_t channel = 0;
  uint16_t channel_peer_port = 0;  // the media port the channel is bound to
  Clock::time_point channel_expires{};
};

TurnServer::TurnServer(Options options, Sink& sink)
    : options_(std::move(options)), sink_(sink), media_(stun_address(options_.media)) {
  RAND_bytes(nonce_key_.data(), static_cast<int>(nonce_key_.size()));
  RAND_bytes(indication_txid_.data(), static_cast<int>(indication_txid_.size()));
  indication_count_ = read_u64(indication_txid_, 4);
}

TurnServer::~TurnServer() = default;

std::string TurnServer::nonce_for(const UdpEndpoint& client, int64_t now) const {
  char stamp[17];
  auto [end, ec] = std::to_chars(stamp, stamp + 16, static_cast<uint64_t>(now), 16);
  std::string ts(stamp, end);
  std::string message = ts;
  message.append(reinterpret_cast<const char*>(&client.addr), client.len);
  std::string mac = hmac_sha1_bytes(
      std::string_view(reinterpret_cast<const char*>(nonce_key_.data()), nonce_key_.size()), message);
  return ts + "-" + hex(common::as_bytes(mac)).substr(0, kNonceMacHex);
}

bool TurnServer::nonce_valid(std::string_view nonce, const UdpEndpoint& client, int64_t now) const {
  auto dash = nonce.find('-');
  if (dash == std::string_view::npos) return false;
  uint64_t issued = 0;
  auto [end, ec] = std::from_chars(nonce.data(), nonce.data() + dash, issued, 16);
  if (ec != std::errc() || end != nonce.data() + dash) return false;
  if (static_cast<int64_t>(issued) > now || now - static_cast<int64_t>(issued) > options_.nonce_lifetime.count())
    return false;
  return nonce == nonce_for(client, static_cast<int64_t>(issued));
}

bool TurnServer::is_media_peer(const StunAddress& peer, bool ip_only) const {
  if (peer.ipv6 != media_.ipv6 || peer.ip != media_.ip) return false;
  if (ip_only || peer.port == media_.port) return true;
  return std::find(options_.media_ports.begin(), options_.media_ports.end(), peer.port) !=
         options_.media_ports.end();
}

uint16_t TurnServer::next_relay_port() {
  for (uint32_t i = 0; i < kRelayPorts; ++i) {
    auto port = static_cast<uint16_t>(kFirstRelayPort + port_cursor_);
    port_cursor_ = static_cast<uint16_t>((port_cursor_ + 1) % kRelayPorts);
    if (!by_relay_port_.count(port)) return port;
  }
  return 0;
}

void TurnServer::on_client_packet(std::span<uint8_t> data, const UdpEndpoint& client,
                                  Clock::time_point now) {
  if (data.size() < kChannelHeader) {
    ++counters_.malformed;
    return;
  }
  if (data[0] >= 0x40 && data[0] <= 0x4F) {
    handle_channel_data(data, client);
    return;
  }
  auto m = StunMessageView::parse(data);
  if (!m) {
    ++counters_.malformed;
    return;
  }
  if (m->message_class() == StunClass::kRequest) {
    handle_request(*m, client, now);
  } else if (m->message_class() == StunClass::kIndication && m->method() == turn_method::kSend) {
    handle_send(*m, data, client, now);
  }
  // Responses and other indications are not for a server: ignored.
}

void TurnServer::reply_error(const StunMessageView& m, const UdpEndpoint& client, uint16_t code,
                             std::string_view reason, const std::string* key, bool with_nonce) {
  StunMessageBuilder b(out_, m.method(), StunClass::kError, m.transaction_id());
  b.add_error_code(code, reason);
  if (with_nonce) {
    b.add_string(stun_attr::kRealm, options_.realm);
    b.add_string(stun_attr::kNonce, nonce_for(client, unix_now()));
  }
  if (key) b.add_integrity(*key);
  b.add_fingerprint();
  if (b.ok()) sink_.send_to_client(b.bytes(), client);
}

void TurnServer::handle_request(const StunMessageView& m, const UdpEndpoint& client,
                                Clock::time_point now) {
  const uint16_t method = m.method();
  if (method == kStunBindingMethod) {  // plain STUN: the client's server-reflexive address
    StunMessageBuilder b(out_, method, StunClass::kSuccess, m.transaction_id());
    b.add_xor_mapped_address(stun_address(client));
    b.add_fingerprint();
    if (b.ok()) sink_.send_to_client(b.bytes(), client);
    return;
  }
  if (method != turn_method::kAllocate && method != turn_method::kRefresh &&
      method != turn_method::kCreatePermission && method != turn_method::kChannelBind) {
    reply_error(m, client, 400, "Bad Request", nullptr, false);
    return;
  }

  // Long-term credentials (RFC 8489 §9.2): the first request gets a realm and a nonce.
  const int64_t unix = unix_now();
  if (!m.has_integrity()) {
    reply_error(m, client, 401, "Unauthorized", nullptr, true);
    return;
  }
  auto username = m.username();
  auto realm = m.attribute(stun_attr::kRealm);
  auto nonce = m.attribute(stun_attr::kNonce);
  if (username.empty() || !realm || !nonce) {
    reply_error(m, client, 400, "Bad Request", nullptr, false);
    return;
  }
  if (!nonce_valid(as_text(*nonce), client, unix)) {
    reply_error(m, client, 438, "Stale Nonce", nullptr, true);
    return;
  }
  auto expiry = username_expiry(username);
  if (!expiry || *expiry < unix || as_text(*realm) != options_.realm) {
    ++counters_.auth_failures;
    reply_error(m, client, 401, "Unauthorized", nullptr, true);
    return;
  }
  const std::string key = md5(std::string(username) + ":" + options_.realm + ":" +
                              password_for(options_.secret, username));
  if (!m.check_integrity(key)) {
    ++counters_.auth_failures;
    reply_error(m, client, 401, "Unauthorized", nullptr, true);
    return;
  }

  auto it = by_client_.find(client);
  Allocation* a = it == by_client_.end() ? nullptr : it->second.get();

  if (method == turn_method::kAllocate) {
    if (a) {
      // A retransmitted Allocate gets the same answer; a new one is a mismatch (RFC 8656 §7.2).
      if (!std::equal(a->allocate_txid.begin(), a->allocate_txid.end(), m.transaction_id().begin())) {
        reply_error(m, client, 437, "Allocation Mismatch", &key, false);
        return;
      }
    } else {
      auto transport = m.attribute(stun_attr::kRequestedTransport);
      if (!transport || transport->size() != 4) {
        reply_error(m, client, 400, "Bad Request", &key, false);
        return;
      }
      if ((*transport)[0] != kUdpProtocol) {
        reply_error(m, client, 442, "Unsupported Transport Protocol", &key, false);
        return;
      }
      if (auto family = m.attribute(stun_attr::kRequestedAddressFamily);
          family && !family->empty() && ((*family)[0] == kAddressFamilyV6) != media_.ipv6) {
        reply_error(m, client, 440, "Address Family not Supported", &key, false);
        return;
      }
      if (m.attribute(stun_attr::kReservationToken) || m.attribute(stun_attr::kEvenPort)) {
        reply_error(m, client, 508, "Insufficient Capacity", &key, false);
        return;
      }
      std::string user(username);
      uint16_t port = by_client_.size() < options_.max_allocations &&
                              per_user_[user] < options_.max_allocations_per_user
                          ? next_relay_port()
                          : 0;
      if (port == 0) {
        if (per_user_[user] == 0) per_user_.erase(user);
        ++counters_.quota_refusals;
        reply_error(m, client, 486, "Allocation Quota Reached", &key, false);
        return;
      }
      auto alloc = std::make_unique<Allocation>();
      alloc->client = client;
      alloc->relay = with_port(options_.media, port);
      alloc->relay.via = Via::kTurn;
      alloc->username = user;
      alloc->key = key;
      std::copy(m.transaction_id().begin(), m.transaction_id().end(), alloc->allocate_txid.begin());
      auto lifetime = options_.default_lifetime;
      if (auto l = m.attribute(stun_attr::kLifetime); l && l->size() == 4) {
        lifetime = std::chrono::seconds(std::clamp<int64_t>(read_u32(*l, 0), options_.default_lifetime.count(),
                                                            options_.max_lifetime.count()));
      }
      alloc->expires = now + lifetime;
      a = alloc.get();
      by_relay_port_[port] = a;
      ++per_user_[user];
      by_client_[client] = std::move(alloc);
      ++counters_.allocations_created;
    }
    StunMessageBuilder b(out_, method, StunClass::kSuccess, m.transaction_id());
    b.add_xor_address(stun_attr::kXorRelayedAddress, stun_address(a->relay));
    b.add_u32(stun_attr::kLifetime, static_cast<uint32_t>(
                                        std::chrono::duration_cast<std::chrono::seconds>(a->expires - now).count()));
    b.add_xor_mapped_address(stun_address(client));
    b.add_integrity(key);
    b.add_fingerprint();
    if (b.ok()) sink_.send_to_client(b.bytes(), client);
    return;
  }

  if (!a) {
    reply_error(m, client, 437, "Allocation Mismatch", &key, false);
    return;
  }
  if (a->username != username) {
    reply_error(m, client, 441, "Wrong Credentials", &key, false);
    return;
  }
  StunMessageBuilder b(out_, method, StunClass::kSuccess, m.transaction_id());
  if (method == turn_method::kRefresh) {
    auto lifetime = options_.default_lifetime;
    if (auto l = m.attribute(stun_attr::kLifetime); l && l->size() == 4) {
      lifetime = std::chrono::seconds(std::min<int64_t>(read_u32(*l, 0), options_.max_lifetime.count()));
    }
    b.add_u32(stun_attr::kLifetime, static_cast<uint32_t>(lifetime.count()));
    b.add_integrity(key);
    b.add_fingerprint();
    if (b.ok()) sink_.send_to_client(b.bytes(), client);
    if (lifetime.count() == 0) {
      remove(a);
    } else {
      a->expires = now + lifetime;
    }
    return;
  }
  auto peer = m.xor_address(stun_attr::kXorPeerAddress);
  if (!peer) {
    reply_error(m, client, 400, "Bad Request", &key, false);
    return;
  }
  if (method == turn_method::kCreatePermission) {
    if (!is_media_peer(*peer, true)) {
      ++counters_.forbidden_peers;
      reply_error(m, client, 403, "Forbidden", &key, false);
      return;
    }
    a->permission_expires = now + kPermissionLifetime;
  } else {  // ChannelBind
    auto number = m.attribute(stun_attr::kChannelNumber);
    uint16_t channel = number && number->size() == 4 ? read_u16(*number, 0) : 0;
    if (channel < kFirstChannel || channel > kLastChannel || (a->channel && a->channel != channel) ||
        (a->channel && a->channel_peer_port != peer->port)) {  // RFC 8656 §12.2: one peer per channel
      reply_error(m, client, 400, "Bad Request", &key, false);
      return;
    }
    if (!is_media_peer(*peer, false)) {
      ++counters_.forbidden_peers;
      reply_error(m, client, 403, "Forbidden", &key, false);
      return;
    }
    a->channel = channel;
    a->channel_peer_port = peer->port;
    a->channel_expires = now + kChannelLifetime;
    a->permission_expires = std::max(a->permission_expires, now + kPermissionLifetime);
  }
  b.add_integrity(key);
  b.add_fingerprint();
  if (b.ok()) sink_.send_to_client(b.bytes(), client);
}

void TurnServer::handle_send(const StunMessageView& m, std::span<uint8_t> data, const UdpEndpoint& client,
                             Clock::time_point now) {
  auto it = by_client_.find(client);
  auto peer = m.xor_address(stun_attr::kXorPeerAddress);
  auto payload = m.attribute(stun_attr::kData);
  if (it == by_client_.end() || !peer || !payload) {
    ++counters_.dropped;
    return;
  }
  Allocation* a = it->second.get();
  if (!is_media_peer(*peer, false)) {
    ++counters_.forbidden_peers;
    return;
  }
  if (a->permission_expires <= now) {
    ++counters_.dropped;
    return;
  }
  // The DATA attribute's bytes in the caller's (writable) buffer that the view was parsed from.
  auto offset = static_cast<size_t>(payload->data() - m.bytes().data());
  ++counters_.to_media;
  sink_.deliver_to_media(data.subspan(offset, payload->size()), a->relay, peer->port);
}

void TurnServer::handle_channel_data(std::span<uint8_t> data, const UdpEndpoint& client) {
  uint16_t channel = read_u16(data, 0);
  size_t len = read_u16(data, 2);
  auto it = by_client_.find(client);
  if (kChannelHeader + len > data.size()) {
    ++counters_.malformed;
    return;
  }
  if (it == by_client_.end() || it->second->channel != channel || channel == 0) {
    ++counters_.dropped;
    return;
  }
  ++counters_.to_media;
  sink_.deliver_to_media(data.subspan(kChannelHeader, len), it->second->relay,
                         it->second->channel_peer_port);
}

bool TurnServer::on_media_packet(std::span<const uint8_t> data, const UdpEndpoint& relay,
                                 Clock::time_point now, uint16_t media_port) {
  if (media_port == 0) media_port = media_.port;
  auto it = by_relay_port_.find(stun_address(relay).port);
  if (it == by_relay_port_.end() || it->second->permission_expires <= now) {
    ++counters_.dropped;
    return false;
  }
  Allocation* a = it->second;
  const bool stream = a->client.via == Via::kTcp;
  size_t n = 0;
  if (a->channel && a->channel_expires > now && a->channel_peer_port == media_port) {
    size_t padded = stream ? (data.size() + 3) & ~size_t{3} : data.size();
    if (kChannelHeader + padded > out_.size()) {
      ++counters_.dropped;
      return false;
    }
    write_u16(out_, 0, a->channel);
    write_u16(out_, 2, static_cast<uint16_t>(data.size()));
    std::memcpy(out_.data() + kChannelHeader, data.data(), data.size());
    std::memset(out_.data() + kChannelHeader + data.size(), 0, padded - data.size());
    n = kChannelHeader + padded;
  } else {
    // Indications need unique transaction ids, not secret ones: a counter after a random prefix.
    write_u64(indication_txid_, 4, ++indication_count_);
    StunMessageBuilder b(out_, turn_method::kData, StunClass::kIndication, indication_txid_);
    StunAddress from = media_;
    from.port = media_port;
    b.add_xor_address(stun_attr::kXorPeerAddress, from);
    b.add_attribute(stun_attr::kData, data);
    if (!b.ok()) {
      ++counters_.dropped;
      return false;
    }
    n = b.size();
  }
  ++counters_.to_client;
  sink_.send_to_client({out_.data(), n}, a->client);
  return true;
}

void TurnServer::remove(Allocation* a) {
  sink_.relay_closed(a->relay);
  by_relay_port_.erase(stun_address(a->relay).port);
  if (auto u = per_user_.find(a->username); u != per_user_.end() && --u->second == 0) per_user_.erase(u);
  const UdpEndpoint client = a->client;  // a copy: erasing destroys *a
  by_client_.erase(client);
}

void TurnServer::client_closed(const UdpEndpoint& client) {
  if (auto it = by_client_.find(client); it != by_client_.end()) remove(it->second.get());
}

void TurnServer::sweep(Clock::time_point now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + kSweepInterval;
  std::vector<Allocation*> expired;
  for (auto& [_, a] : by_client_) {
    if (a->expires <= now) expired.push_back(a.get());
    if (a->channel && a->channel_expires <= now) a->channel = 0;
  }
  for (Allocation* a : expired) remove(a);
}

}  // namespace parlor::rtc
