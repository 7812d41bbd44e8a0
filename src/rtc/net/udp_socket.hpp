#pragma once
// A media worker's UDP socket: non-blocking, driven by the worker's io_context, receiving in
// batches with recvmmsg into preallocated buffers and sending queued datagrams in batches with
// sendmmsg. One socket serves every transport on the worker (demultiplexing is the caller's).
//
// Threading: all calls on the io_context's thread. The receive handler's spans are valid only
// during the call. No allocation per packet: buffers are sized at construction.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include "rtc/stun/stun_message.hpp"

namespace parlor::rtc {

// How a peer's packets reach a media worker: its UDP socket, an ICE-TCP connection (RFC 6544)
// accepted by the worker's StreamServer, or a TURN allocation on the worker's own TURN server.
enum class Via : uint8_t { kUdp = 0, kTcp = 1, kTurn = 2 };

// A peer's IPv4/IPv6 address in the kernel's format, cheap to copy and compare. The same
// ip:port via UDP, TCP or TURN are three different endpoints.
struct UdpEndpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  Via via = Via::kUdp;
  bool operator==(const UdpEndpoint& o) const;
  std::string to_string() const;
  static UdpEndpoint from(const std::string& ip, uint16_t port);
};

// The endpoint as STUN carries addresses (with its Via, which STUN does not encode).
StunAddress stun_address(const UdpEndpoint& e);

struct UdpEndpointHash {
  size_t operator()(const UdpEndpoint& e) const;
};

class UdpSocket {
 public:
  static constexpr size_t kBatch = 32;          // datagrams per recvmmsg/sendmmsg call
  static constexpr size_t kMaxDatagram = 1500;  // larger datagrams are truncated and dropped

  using ReceiveHandler = std::function<void(std::span<uint8_t> datagram, const UdpEndpoint& from)>;

  // Binds `address:port` (port 0 = ephemeral). Throws parlor::BadInput if it cannot bind.
  UdpSocket(boost::asio::io_context& io, const std::string& address, uint16_t port,
            ReceiveHandler on_receive);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  uint16_t port() const { return port_; }
  // Called after each received batch has been handled and flushed (e.g. to flush another socket
  // the handlers queued to).
  void set_batch_end(std::function<void()> fn) { batch_end_ = std::move(fn); }
  // Queues a datagram (copied into a preallocated slot); flushed at the end of the current
  // receive batch or immediately when the queue is full. False if it was dropped.
  bool send(std::span<const uint8_t> datagram, const UdpEndpoint& to);
  void flush();

  uint64_t received() const { return received_; }
  uint64_t sent() const { return sent_; }
  uint64_t send_errors() const { return send_errors_; }
  uint64_t truncated() const { return truncated_; }

 private:
  void wait_readable();
  void read_batch();

  boost::asio::ip::udp::socket socket_;
  ReceiveHandler on_receive_;
  std::function<void()> batch_end_;
  uint16_t port_ = 0;
  // receive side
  std::vector<std::array<uint8_t, kMaxDatagram>> rx_buffers_;
  std::array<iovec, kBatch> rx_iov_{};
  std::array<mmsghdr, kBatch> rx_msgs_{};
  std::array<sockaddr_storage, kBatch> rx_addrs_{};
  // send side
  std::vector<std::array<uint8_t, kMaxDatagram>> tx_buffers_;
  std::array<iovec, kBatch> tx_iov_{};
  std::array<mmsghdr, kBatch> tx_msgs_{};
  std::array<UdpEndpoint, kBatch> tx_to_{};
  size_t tx_count_ = 0;
  uint64_t received_ = 0, sent_ = 0, send_errors_ = 0, truncated_ = 0;
};

}  // namespace parlor::rtc
