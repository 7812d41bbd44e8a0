#include "rtc/net/ice_tcp_server.hpp"

#include <boost/asio/write.hpp>
#include <algorithm>
#include <cstring>

#include "common/errors.hpp"

namespace parlor::rtc {

namespace {
namespace asio = boost::asio;
using asio::ip::tcp;

constexpr size_t kFrameHeader = 2;  // RFC 4571: 16-bit length
// Room for several frames per read; compaction keeps space for one whole frame free.
constexpr size_t kReceiveBuffer = 16 * 1024;
constexpr size_t kInitialSendReserve = 16 * 1024;
constexpr auto kSweepInterval = std::chrono::seconds(1);
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);  // after EMFILE and the like
}  // namespace

struct IceTcpServer::Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  UdpEndpoint peer;
  Clock::time_point last_heard{};
  Clock::time_point opened{};
  bool validated = false;
  bool writing = false;
  bool closed = false;
  std::vector<uint8_t> rx;
  size_t rx_begin = 0, rx_end = 0;
  size_t skip = 0;  // bytes of an oversized frame still to discard
  std::vector<uint8_t> pending, inflight;  // framed output: queued, and being written
};

IceTcpServer::IceTcpServer(asio::io_context& io, const std::string& address, uint16_t port,
                           Limits limits, Handlers handlers)
    : acceptor_(io), limits_(limits), handlers_(std::move(handlers)), accept_backoff_(io) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) throw BadInput("ice-tcp: invalid bind address '" + address + "'");
  tcp::endpoint ep(addr, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw BadInput("ice-tcp: cannot listen on " + address + ":" + std::to_string(port) + ": " +
                   ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  accept();
}

IceTcpServer::~IceTcpServer() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (auto& [_, c] : connections_) {
    c->closed = true;
    c->socket.close(ec);
  }
}

void IceTcpServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      ++counters_.accept_errors;
      accept_backoff_.expires_after(kAcceptBackoff);
      accept_backoff_.async_wait([this](boost::system::error_code e) {
        if (!e) accept();
      });
      return;
    }
    boost::system::error_code ep_ec;
    auto remote = socket.remote_endpoint(ep_ec);
    if (ep_ec || connections_.size() >= limits_.max_connections) {
      if (!ep_ec) ++counters_.refused;
      socket.close(ep_ec);
      accept();
      return;
    }
    socket.set_option(tcp::no_delay(true), ep_ec);
    auto c = std::make_shared<Connection>(std::move(socket));
    std::memcpy(&c->peer.addr, remote.data(), remote.size());
    c->peer.len = static_cast<socklen_t>(remote.size());
    c->peer.via = Via::kTcp;
    c->opened = c->last_heard = Clock::now();
    c->rx.resize(kReceiveBuffer);
    c->pending.reserve(std::min(kInitialSendReserve, limits_.send_buffer_bytes));
    c->inflight.reserve(std::min(kInitialSendReserve, limits_.send_buffer_bytes));
    // A reused 4-tuple whose old connection we have not noticed closing yet: the new one wins.
    if (auto old = connections_.find(c->peer); old != connections_.end()) close(old->second);
    connections_[c->peer] = c;
    ++counters_.accepted;
    read(c);
    accept();
  });
}

void IceTcpServer::read(const std::shared_ptr<Connection>& c) {
  auto space = asio::buffer(c->rx.data() + c->rx_end, c->rx.size() - c->rx_end);
  c->socket.async_read_some(space, [this, c](boost::system::error_code ec, size_t n) {
    if (c->closed) return;
    if (ec) {
      close(c);
      return;
    }
    on_bytes(c, n);
    if (handlers_.read_done) handlers_.read_done();
    if (!c->closed) read(c);
  });
}

void IceTcpServer::on_bytes(const std::shared_ptr<Connection>& c, size_t n) {
  c->rx_end += n;
  c->last_heard = Clock::now();
  for (;;) {
    if (c->skip) {
      size_t k = std::min(c->skip, c->rx_end - c->rx_begin);
      c->rx_begin += k;
      c->skip -= k;
      if (c->skip) break;
    }
    size_t avail = c->rx_end - c->rx_begin;
    if (avail < kFrameHeader) break;
    const uint8_t* head = c->rx.data() + c->rx_begin;
    size_t len = (static_cast<size_t>(head[0]) << 8) | head[1];
    if (len > UdpSocket::kMaxDatagram) {
      ++counters_.oversized;
      c->rx_begin += kFrameHeader;
      c->skip = len;
      continue;
    }
    if (avail < kFrameHeader + len) break;
    std::span<uint8_t> frame(c->rx.data() + c->rx_begin + kFrameHeader, len);
    c->rx_begin += kFrameHeader + len;
    if (len == 0) continue;
    ++counters_.frames_received;
    handlers_.receive(frame, c->peer);
    if (c->closed) return;
  }
  if (c->rx_begin == c->rx_end) {
    c->rx_begin = c->rx_end = 0;
  } else if (c->rx.size() - c->rx_end < kFrameHeader + UdpSocket::kMaxDatagram) {
    std::memmove(c->rx.data(), c->rx.data() + c->rx_begin, c->rx_end - c->rx_begin);
    c->rx_end -= c->rx_begin;
    c->rx_begin = 0;
  }
}

bool IceTcpServer::send(std::span<const uint8_t> packet, const UdpEndpoint& to) {
  auto it = connections_.find(to);
  if (it == connections_.end()) {
    ++counters_.send_no_connection;
    return false;
  }
  const auto& c = it->second;
  if (packet.size() > UdpSocket::kMaxDatagram ||
      c->pending.size() + kFrameHeader + packet.size() > limits_.send_buffer_bytes) {
    ++counters_.send_dropped;
    return false;
  }
  c->pending.push_back(static_cast<uint8_t>(packet.size() >> 8));
  c->pending.push_back(static_cast<uint8_t>(packet.size()));
  c->pending.insert(c->pending.end(), packet.begin(), packet.end());
  ++counters_.frames_sent;
  if (!c->writing) write(c);
  return true;
}

// One write in flight per connection; what is queued meanwhile leaves in the next write, so a
// burst to one client becomes a few large writes.
void IceTcpServer::write(const std::shared_ptr<Connection>& c) {
  c->writing = true;
  std::swap(c->pending, c->inflight);
  c->pending.clear();
  asio::async_write(c->socket, asio::buffer(c->inflight),
                    [this, c](boost::system::error_code ec, size_t) {
                      c->writing = false;
                      if (c->closed) return;
                      if (ec) {
                        close(c);
                        return;
                      }
                      c->inflight.clear();
                      if (!c->pending.empty()) write(c);
                    });
}

void IceTcpServer::mark_validated(const UdpEndpoint& from) {
  if (auto it = connections_.find(from); it != connections_.end()) it->second->validated = true;
}

void IceTcpServer::close(const std::shared_ptr<Connection>& c) {
  if (c->closed) return;
  c->closed = true;
  boost::system::error_code ec;
  c->socket.close(ec);
  auto it = connections_.find(c->peer);
  if (it != connections_.end() && it->second == c) connections_.erase(it);
  if (handlers_.closed) handlers_.closed(c->peer);
}

void IceTcpServer::sweep(Clock::time_point now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + kSweepInterval;
  std::vector<std::shared_ptr<Connection>> expired;
  for (const auto& [_, c] : connections_) {
    if (!c->validated && now - c->opened >= limits_.unvalidated_timeout) {
      ++counters_.closed_unvalidated;
      expired.push_back(c);
    } else if (now - c->last_heard >= limits_.idle_timeout) {
      ++counters_.closed_idle;
      expired.push_back(c);
    }
  }
  for (const auto& c : expired) close(c);
}

}  // namespace parlor::rtc
