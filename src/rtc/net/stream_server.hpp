#pragma once
// A media worker's stream listener: packets over TCP (optionally TLS), cut into frames and handed
// to the same kind of handler as the worker's UDP datagrams, each connection being one endpoint
// (marked Via::kTcp). Two uses:
//  * ICE over TCP, the passive side (RFC 6544) on `rtc.tcp_port`: clients whose UDP is blocked
//    send STUN, DTLS and SRTP in RFC 4571 frames (a 16-bit length before each packet), so ICE,
//    DTLS and SRTP are the same code as over UDP;
//  * TURN over TLS on `turn.tls_port` (RFC 8656 §3.1): STUN messages and ChannelData messages,
//    each delimited by its own length field (ChannelData padded to 4 bytes).
//
// Limits: a bounded number of connections; a connection not marked validated (an ICE check or a
// TURN allocation passed) within `unvalidated_timeout`, or silent for `idle_timeout`, is closed
// (the TLS handshake counts against the first); an oversized frame is skipped and counted; a
// stream that is not of the expected protocol is closed; each connection queues at most
// `send_buffer_bytes` of framed output and drops (and counts) what does not fit, like a full UDP
// socket buffer, so a slow reader never blocks the worker or grows memory.
//
// Threading: everything on the io_context's thread. Spans given to the handler are valid only
// during the call. No allocation per packet: a connection's buffers are sized when it opens and
// grow (amortised) to at most their bound.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "rtc/net/udp_socket.hpp"

namespace parlor::rtc {

class StreamServer {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Framing {
    kRfc4571,  // 16-bit length, then the packet (ICE-TCP)
    kTurn,     // STUN or ChannelData, self-delimiting (TURN over TCP/TLS)
  };
  struct Limits {
    size_t max_connections = 1024;
    size_t send_buffer_bytes = 128 * 1024;
    std::chrono::milliseconds unvalidated_timeout{10000};
    std::chrono::milliseconds idle_timeout{30000};
  };
  struct Counters {
    uint64_t accepted = 0;
    uint64_t refused = 0;          // over max_connections
    uint64_t closed_unvalidated = 0;
    uint64_t closed_idle = 0;
    uint64_t closed_bad_stream = 0;  // not the expected protocol, or a failed TLS handshake
    uint64_t frames_received = 0, frames_sent = 0;
    uint64_t oversized = 0;        // frames longer than a datagram, skipped
    uint64_t send_dropped = 0;     // frames that did not fit a connection's send buffer
    uint64_t send_no_connection = 0;  // frames for a connection that is gone
    uint64_t accept_errors = 0;
  };

  using ReceiveHandler = UdpSocket::ReceiveHandler;
  struct Handlers {
    ReceiveHandler receive;                           // one call per frame
    std::function<void()> read_done;                  // after the frames of one read (flush point)
    std::function<void(const UdpEndpoint&)> closed;   // a connection closed: drop routes to it
  };

  // Binds `address:port` (port 0 = ephemeral); `tls` (nullable) makes every connection TLS.
  // Throws parlor::BadInput if it cannot bind.
  StreamServer(boost::asio::io_context& io, const std::string& address, uint16_t port, Framing framing,
               Limits limits, Handlers handlers, std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~StreamServer();
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  uint16_t port() const { return port_; }
  // Queues `packet` for the connection `to` (framed if the framing needs it). False if dropped.
  bool send(std::span<const uint8_t> packet, const UdpEndpoint& to);
  // The peer proved itself (an ICE check passed, a TURN allocation exists): the connection is
  // kept past unvalidated_timeout.
  void mark_validated(const UdpEndpoint& from);
  // Closes connections past their timeouts; cheap to call often (does the work about once a second).
  void sweep(Clock::time_point now);
  size_t connections() const { return connections_.size(); }
  const Counters& counters() const { return counters_; }

 private:
  struct Connection;
  void accept();
  void start(const std::shared_ptr<Connection>& c);
  void read(const std::shared_ptr<Connection>& c);
  void on_bytes(const std::shared_ptr<Connection>& c, size_t n);
  void write(const std::shared_ptr<Connection>& c);
  void close(const std::shared_ptr<Connection>& c);

  boost::asio::ip::tcp::acceptor acceptor_;
  Framing framing_;
  Limits limits_;
  Handlers handlers_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::asio::steady_timer accept_backoff_;
  uint16_t port_ = 0;
  std::unordered_map<UdpEndpoint, std::shared_ptr<Connection>, UdpEndpointHash> connections_;
  Clock::time_point next_sweep_{};
  Counters counters_;
};

}  // namespace parlor::rtc
