#pragma once
// ICE over TCP, the passive side (RFC 6544): a media worker's TCP listener on `rtc.tcp_port`.
// Clients whose UDP is blocked connect to the passive host candidate the SDP announces and send
// STUN, DTLS and SRTP in RFC 4571 frames (a 16-bit big-endian length before each packet). Every
// connection is one remote candidate: its frames go to the same handler as the worker's UDP
// datagrams, with the connection's address marked Via::kTcp, so demultiplexing, ICE, DTLS and SRTP
// are the same code for both.
//
// Limits: a bounded number of connections; a connection that no ICE check validated within
// `unvalidated_timeout`, or that stays silent for `idle_timeout`, is closed; frames longer than
// UdpSocket::kMaxDatagram are skipped and counted; each connection queues at most
// `send_buffer_bytes` of framed output and drops (and counts) what does not fit, like a full UDP
// socket buffer: a slow reader never blocks the worker or grows memory.
//
// Threading: everything on the io_context's thread. Spans given to the handler are valid only
// during the call. No allocation per packet: each connection's buffers are sized when it opens.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
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

class IceTcpServer {
 public:
  using Clock = std::chrono::steady_clock;
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

  // Binds `address:port` (port 0 = ephemeral). Throws parlor::BadInput if it cannot bind.
  IceTcpServer(boost::asio::io_context& io, const std::string& address, uint16_t port, Limits limits,
               Handlers handlers);
  ~IceTcpServer();
  IceTcpServer(const IceTcpServer&) = delete;
  IceTcpServer& operator=(const IceTcpServer&) = delete;

  uint16_t port() const { return port_; }
  // Frames and queues `packet` for the connection `to` (to.via == Via::kTcp). False if dropped.
  bool send(std::span<const uint8_t> packet, const UdpEndpoint& to);
  // An ICE check from `from` passed: the connection is kept past unvalidated_timeout.
  void mark_validated(const UdpEndpoint& from);
  // Closes connections past their timeouts; cheap to call often (does the work about once a second).
  void sweep(Clock::time_point now);
  size_t connections() const { return connections_.size(); }
  const Counters& counters() const { return counters_; }

 private:
  struct Connection;
  void accept();
  void read(const std::shared_ptr<Connection>& c);
  void on_bytes(const std::shared_ptr<Connection>& c, size_t n);
  void write(const std::shared_ptr<Connection>& c);
  void close(const std::shared_ptr<Connection>& c);

  boost::asio::ip::tcp::acceptor acceptor_;
  Limits limits_;
  Handlers handlers_;
  boost::asio::steady_timer accept_backoff_;
  uint16_t port_ = 0;
  std::unordered_map<UdpEndpoint, std::shared_ptr<Connection>, UdpEndpointHash> connections_;
  Clock::time_point next_sweep_{};
  Counters counters_;
};

}  // namespace parlor::rtc
