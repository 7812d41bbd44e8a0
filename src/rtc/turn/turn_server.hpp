#pragma once
// TURN (RFC 8656) served by a media worker for clients whose networks block direct media, and
// relaying only to that worker's own media address: an allocation's relayed address is virtual
// (no socket is bound for it), packets a client sends through it enter the worker's dispatch as
// if they came from that address (an endpoint marked Via::kTurn), and what the worker sends back
// to such an endpoint leaves through the client's TURN connection. A peer other than the media
// address is refused (403 on CreatePermission / ChannelBind, dropped in a Send indication), so
// this is never an open relay: not to the Internet, not to loopback, not to a metadata service.
//
// Credentials are the TURN REST scheme coturn calls use-auth-secret: username
// "<unix expiry>:<participant>", password base64(HMAC-SHA1(secret, username)); the long-term key
// is MD5(username:realm:password). Nonces are stateless (a timestamp and an HMAC over it and the
// client's address), so unauthenticated requests cost no memory.
//
// This class is the protocol only; the worker's listeners (UDP on turn.udp_port, TLS on
// turn.tls_port) feed it and carry its output through the Sink. Threading: the worker's thread.
// No allocation per relayed packet.
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rtc/net/udp_socket.hpp"
#include "rtc/stun/stun_message.hpp"

namespace parlor::rtc {

struct TurnCredentials {
  std::string username;
  std::string password;
};

// The REST credentials for `participant`, valid until `expires_unix`.
TurnCredentials make_turn_credentials(std::string_view secret, std::string_view participant,
                                      int64_t expires_unix);

class TurnServer {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::string realm = "parlor";
    std::string secret;            // the REST credential secret (never empty)
    UdpEndpoint media;             // the worker's media address: the only peer relayed to
    // With several media workers: every worker's media port on media's address (each worker
    // has its own UDP socket). Empty = media's port alone.
    std::vector<uint16_t> media_ports;
    size_t max_allocations = 1000; // per worker
    size_t max_allocations_per_user = 8;
    std::chrono::seconds default_lifetime{600};
    std::chrono::seconds max_lifetime{3600};
    std::chrono::seconds nonce_lifetime{3600};
  };

  struct Counters {
    uint64_t allocations_created = 0;
    uint64_t auth_failures = 0;       // 401 after a MESSAGE-INTEGRITY was offered
    uint64_t forbidden_peers = 0;     // permissions, channels or sends to anything but the media address
    uint64_t quota_refusals = 0;      // 486: max_allocations(_per_user)
    uint64_t malformed = 0;
    uint64_t to_media = 0;            // packets relayed from clients to the media address
    uint64_t to_client = 0;           // packets relayed from the media address to clients
    uint64_t dropped = 0;             // relayed packets without an allocation, permission or channel
  };

  class Sink {
   public:
    virtual ~Sink() = default;
    // A TURN message or ChannelData for `client` (client.via tells which listener carries it).
    virtual void send_to_client(std::span<const uint8_t> data, const UdpEndpoint& client) = 0;
    // A relayed packet for the media worker listening on `media_port` (one of the media ports),
    // from the allocation's relayed address `relay` (Via::kTurn). The span is mutable: the
    // worker decrypts in place.
    virtual void deliver_to_media(std::span<uint8_t> data, const UdpEndpoint& relay, uint16_t media_port) = 0;
    // An allocation ended: routes to its relayed address can go.
    virtual void relay_closed(const UdpEndpoint& /*relay*/) {}
  };

  TurnServer(Options options, Sink& sink);
  ~TurnServer();
  TurnServer(const TurnServer&) = delete;
  TurnServer& operator=(const TurnServer&) = delete;

  // A STUN message or ChannelData message from a client. A client reached over TLS has an
  // endpoint marked Via::kTcp (ChannelData to it is padded to 4 bytes, RFC 8656 §12.5).
  void on_client_packet(std::span<uint8_t> data, const UdpEndpoint& client, Clock::time_point now);
  // The media worker listening on `media_port` (0: media's port) sends `data` to the relayed
  // address `relay`; false if it was dropped.
  bool on_media_packet(std::span<const uint8_t> data, const UdpEndpoint& relay, Clock::time_point now,
                       uint16_t media_port = 0);
  // A stream client disconnected: its allocation ends.
  void client_closed(const UdpEndpoint& client);
  // Expires allocations, permissions and channels (cheap; does the work about once a second).
  void sweep(Clock::time_point now);

  size_t allocations() const { return by_client_.size(); }
  bool has_allocation(const UdpEndpoint& client) const { return by_client_.count(client) != 0; }
  const Counters& counters() const { return counters_; }

 private:
  struct Allocation;
  void handle_request(const StunMessageView& m, const UdpEndpoint& client, Clock::time_point now);
  void handle_send(const StunMessageView& m, std::span<uint8_t> data, const UdpEndpoint& client,
                   Clock::time_point now);
  void handle_channel_data(std::span<uint8_t> data, const UdpEndpoint& client);
  void reply_error(const StunMessageView& m, const UdpEndpoint& client, uint16_t code,
                   std::string_view reason, const std::string* key, bool with_nonce);
  std::string nonce_for(const UdpEndpoint& client, int64_t unix_now) const;
  bool nonce_valid(std::string_view nonce, const UdpEndpoint& client, int64_t unix_now) const;
  bool is_media_peer(const StunAddress& peer, bool ip_only) const;
  uint16_t next_relay_port();
  void remove(Allocation* a);

  Options options_;
  Sink& sink_;
  StunAddress media_;
  std::array<uint8_t, 32> nonce_key_{};
  std::unordered_map<UdpEndpoint, std::unique_ptr<Allocation>, UdpEndpointHash> by_client_;
  std::unordered_map<uint16_t, Allocation*> by_relay_port_;
  std::unordered_map<std::string, size_t> per_user_;
  uint16_t port_cursor_ = 0;
  Clock::time_point next_sweep_{};
  std::array<uint8_t, UdpSocket::kMaxDatagram + 64> out_{};
  std::array<uint8_t, 12> indication_txid_{};
  uint64_t indication_count_ = 0;
  Counters counters_;
};

}  // namespace parlor::rtc
