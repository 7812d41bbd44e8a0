#include "rtc/net/udp_socket.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <string_view>

#include "common/errors.hpp"

namespace parlor::rtc {

namespace {
const char* via_suffix(Via via) {
  switch (via) {
    case Via::kTcp:
      return "/tcp";
    case Via::kTurn:
      return "/turn";
    default:
      return "";
  }
}
}  // namespace

bool UdpEndpoint::operator==(const UdpEndpoint& o) const {
  return len == o.len && via == o.via && std::memcmp(&addr, &o.addr, len) == 0;
}

StunAddress stun_address(const UdpEndpoint& e) {
  StunAddress a;
  a.via = static_cast<uint8_t>(e.via);
  if (e.addr.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(&e.addr);
    std::memcpy(a.ip.data(), &v4->sin_addr, 4);
    a.port = ntohs(v4->sin_port);
  } else {
    auto* v6 = reinterpret_cast<const sockaddr_in6*>(&e.addr);
    a.ipv6 = true;
    std::memcpy(a.ip.data(), &v6->sin6_addr, 16);
    a.port = ntohs(v6->sin6_port);
  }
  return a;
}

size_t UdpEndpointHash::operator()(const UdpEndpoint& e) const {
  size_t h = std::hash<std::string_view>{}(
      std::string_view(reinterpret_cast<const char*>(&e.addr), static_cast<size_t>(e.len)));
  return h ^ (static_cast<size_t>(e.via) * 0x9e3779b97f4a7c15ull);
}

std::string UdpEndpoint::to_string() const {
  char ip[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    return std::string(ip) + ":" + std::to_string(ntohs(a->sin_port)) + via_suffix(via);
  }
  auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
  return "[" + std::string(ip) + "]:" + std::to_string(ntohs(a->sin6_port)) + via_suffix(via);
}

UdpEndpoint UdpEndpoint::from(const std::string& ip, uint16_t port) {
  UdpEndpoint e;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&e.addr);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    e.len = sizeof(sockaddr_in);
    return e;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.addr);
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    e.len = sizeof(sockaddr_in6);
    return e;
  }
  throw BadInput("not an IP address: '" + ip + "'");
}

UdpSocket::UdpSocket(boost::asio::io_context& io, const std::string& address, uint16_t port,
                     ReceiveHandler on_receive)
    : socket_(io), on_receive_(std::move(on_receive)), rx_buffers_(kBatch), tx_buffers_(kBatch) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(address, ec);
  if (ec) throw BadInput("udp: invalid bind address '" + address + "'");
  boost::asio::ip::udp::endpoint ep(addr, port);
  socket_.open(ep.protocol(), ec);
  if (!ec) socket_.bind(ep, ec);
  if (ec) {
    throw BadInput("udp: cannot bind " + address + ":" + std::to_string(port) + ": " + ec.message());
  }
  socket_.non_blocking(true);
  port_ = socket_.local_endpoint().port();
  for (size_t i = 0; i < kBatch; ++i) {
    rx_iov_[i] = {rx_buffers_[i].data(), kMaxDatagram};
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
    rx_msgs_[i].msg_hdr.msg_name = &rx_addrs_[i];
    tx_msgs_[i].msg_hdr.msg_iov = &tx_iov_[i];
    tx_msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  wait_readable();
}

UdpSocket::~UdpSocket() {
  boost::system::error_code ec;
  socket_.close(ec);
}

void UdpSocket::wait_readable() {
  socket_.async_wait(boost::asio::ip::udp::socket::wait_read, [this](boost::system::error_code ec) {
    if (ec) return;  // closed
    read_batch();
    wait_readable();
  });
}

void UdpSocket::read_batch() {
  for (;;) {
    for (size_t i = 0; i < kBatch; ++i) {
      rx_msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      rx_msgs_[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(socket_.native_handle(), rx_msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;
    for (int i = 0; i < n; ++i) {
      if (rx_msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) {
        ++truncated_;
        continue;
      }
      ++received_;
      UdpEndpoint from;
      std::memcpy(&from.addr, &rx_addrs_[i], rx_msgs_[i].msg_hdr.msg_namelen);
      from.len = rx_msgs_[i].msg_hdr.msg_namelen;
      on_receive_({rx_buffers_[i].data(), rx_msgs_[i].msg_len}, from);
    }
    flush();  // answers produced by this batch leave together
    if (batch_end_) batch_end_();
    if (static_cast<size_t>(n) < kBatch) break;
  }
}

bool UdpSocket::send(std::span<const uint8_t> datagram, const UdpEndpoint& to) {
  if (datagram.size() > kMaxDatagram) {
    ++send_errors_;
    return false;
  }
  if (tx_count_ == kBatch) flush();
  size_t i = tx_count_++;
  std::memcpy(tx_buffers_[i].data(), datagram.data(), datagram.size());
  tx_iov_[i] = {tx_buffers_[i].data(), datagram.size()};
  tx_to_[i] = to;
  tx_msgs_[i].msg_hdr.msg_name = &tx_to_[i].addr;
  tx_msgs_[i].msg_hdr.msg_namelen = to.len;
  return true;
}

void UdpSocket::flush() {
  size_t done = 0;
  while (done < tx_count_) {
    int n = sendmmsg(socket_.native_handle(), tx_msgs_.data() + done,
                     static_cast<unsigned>(tx_count_ - done), MSG_DONTWAIT);
    if (n <= 0) {
      // Buffer full or unreachable peer: media is loss-tolerant, so drop and count.
      send_errors_ += tx_count_ - done;
      break;
    }
    sent_ += static_cast<uint64_t>(n);
    done += static_cast<size_t>(n);
  }
  tx_count_ = 0;
}

}  // namespace parlor::rtc
