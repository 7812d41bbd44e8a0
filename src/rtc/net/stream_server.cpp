#include "rtc/net/stream_server.hpp"

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <algorithm>
#include <cstring>

#include "common/errors.hpp"

namespace parlor::rtc {

namespace {
namespace asio = boost::asio;
using asio::ip::tcp;

constexpr size_t kFrameHeader = 2;  // RFC 4571: 16-bit length
constexpr size_t kTurnHeader = 4;   // enough of a STUN or ChannelData header to know its length
constexpr size_t kStunHeader = 20;
constexpr size_t kMaxFrame = UdpSocket::kMaxDatagram + 8;  // the longest frame kept (header, padding)
// Room for several frames per read; compaction keeps space for one whole frame free.
constexpr size_t kReceiveBuffer = 16 * 1024;
constexpr size_t kInitialSendReserve = 16 * 1024;
constexpr auto kSweepInterval = std::chrono::seconds(1);
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);  // after EMFILE and the like
}  // namespace

struct StreamServer::Connection {
  std::optional<tcp::socket> plain;
  std::optional<asio::ssl::stream<tcp::socket>> tls;
  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }
  // Runs fn with the stream to read and write: the TLS stream, or the plain socket.
  template <typename Fn>
  void with_stream(Fn&& fn) {
    if (tls) {
      fn(*tls);
    } else {
      fn(*plain);
    }
  }
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

StreamServer::StreamServer(asio::io_context& io, const std::string& address, uint16_t port,
                           Framing framing, Limits limits, Handlers handlers,
                           std::shared_ptr<asio::ssl::context> tls)
    : acceptor_(io),
      framing_(framing),
      limits_(limits),
      handlers_(std::move(handlers)),
      tls_(std::move(tls)),
      accept_backoff_(io) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) throw BadInput("tcp: invalid bind address '" + address + "'");
  tcp::endpoint ep(addr, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw BadInput("tcp: cannot listen on " + address + ":" + std::to_string(port) + ": " +
                   ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  accept();
}

StreamServer::~StreamServer() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (auto& [_, c] : connections_) {
    c->closed = true;
    c->socket().close(ec);
  }
}

void StreamServer::accept() {
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
    auto c = std::make_shared<Connection>();
    if (tls_) {
      c->tls.emplace(std::move(socket), *tls_);
    } else {
      c->plain.emplace(std::move(socket));
    }
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
    start(c);
    accept();
  });
}

// TLS connections shake hands first (bounded by unvalidated_timeout through sweep()).
void StreamServer::start(const std::shared_ptr<Connection>& c) {
  if (!c->tls) {
    read(c);
    return;
  }
  c->tls->async_handshake(asio::ssl::stream_base::server, [this, c](boost::system::error_code ec) {
    if (c->closed) return;
    if (ec) {
      ++counters_.closed_bad_stream;
      close(c);
      return;
    }
    read(c);
  });
}

void StreamServer::read(const std::shared_ptr<Connection>& c) {
  auto space = asio::buffer(c->rx.data() + c->rx_end, c->rx.size() - c->rx_end);
  c->with_stream([&](auto& stream) {
    stream.async_read_some(space, [this, c](boost::system::error_code ec, size_t n) {
      if (c->closed) return;
      if (ec) {
        close(c);
        return;
      }
      on_bytes(c, n);
      if (handlers_.read_done) handlers_.read_done();
      if (!c->closed) read(c);
    });
  });
}

void StreamServer::on_bytes(const std::shared_ptr<Connection>& c, size_t n) {
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
    const uint8_t* head = c->rx.data() + c->rx_begin;
    size_t skip_header = 0, len = 0, total = 0;  // frame = [header to skip][payload of len], padded to total
    if (framing_ == Framing::kRfc4571) {
      if (avail < kFrameHeader) break;
      skip_header = kFrameHeader;
      len = total = kFrameHeader + ((static_cast<size_t>(head[0]) << 8) | head[1]);
    } else {
      if (avail < kTurnHeader) break;
      size_t body = (static_cast<size_t>(head[2]) << 8) | head[3];
      if (head[0] < 0x40) {  // STUN: 20-byte header + body
        len = total = kStunHeader + body;
      } else if (head[0] <= 0x4F) {  // ChannelData: 4-byte header + data, padded to 4 over streams
        len = kTurnHeader + body;
        total = (len + 3) & ~size_t{3};
      } else {
        ++counters_.closed_bad_stream;
        close(c);
        return;
      }
    }
    if (len - skip_header > UdpSocket::kMaxDatagram) {
      ++counters_.oversized;
      c->skip = total;  // discarded as it arrives, header included
      continue;
    }
    if (avail < total) break;
    std::span<uint8_t> frame(c->rx.data() + c->rx_begin + skip_header, len - skip_header);
    c->rx_begin += total;
    if (frame.empty()) continue;
    ++counters_.frames_received;
    handlers_.receive(frame, c->peer);
    if (c->closed) return;
  }
  if (c->rx_begin == c->rx_end) {
    c->rx_begin = c->rx_end = 0;
  } else if (c->rx.size() - c->rx_end < kMaxFrame) {
    std::memmove(c->rx.data(), c->rx.data() + c->rx_begin, c->rx_end - c->rx_begin);
    c->rx_end -= c->rx_begin;
    c->rx_begin = 0;
  }
}

bool StreamServer::send(std::span<const uint8_t> packet, const UdpEndpoint& to) {
  auto it = connections_.find(to);
  if (it == connections_.end()) {
    ++counters_.send_no_connection;
    return false;
  }
  const auto& c = it->second;
  const size_t header = framing_ == Framing::kRfc4571 ? kFrameHeader : 0;  // TURN messages delimit themselves
  if (packet.size() > UdpSocket::kMaxDatagram + 64 ||
      c->pending.size() + header + packet.size() > limits_.send_buffer_bytes) {
    ++counters_.send_dropped;
    return false;
  }
  if (header) {
    c->pending.push_back(static_cast<uint8_t>(packet.size() >> 8));
    c->pending.push_back(static_cast<uint8_t>(packet.size()));
  }
  c->pending.insert(c->pending.end(), packet.begin(), packet.end());
  ++counters_.frames_sent;
  if (!c->writing) write(c);
  return true;
}

// One write in flight per connection; what is queued meanwhile leaves in the next write, so a
// burst to one client becomes a few large writes.
void StreamServer::write(const std::shared_ptr<Connection>& c) {
  c->writing = true;
  std::swap(c->pending, c->inflight);
  c->pending.clear();
  c->with_stream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(c->inflight), [this, c](boost::system::error_code ec, size_t) {
      c->writing = false;
      if (c->closed) return;
      if (ec) {
        close(c);
        return;
      }
      c->inflight.clear();
      if (!c->pending.empty()) write(c);
    });
  });
}

void StreamServer::mark_validated(const UdpEndpoint& from) {
  if (auto it = connections_.find(from); it != connections_.end()) it->second->validated = true;
}

void StreamServer::close(const std::shared_ptr<Connection>& connection) {
  auto c = connection;  // `connection` may be the map's own entry, erased below
  if (c->closed) return;
  c->closed = true;
  boost::system::error_code ec;
  c->socket().close(ec);
  auto it = connections_.find(c->peer);
  if (it != connections_.end() && it->second == c) connections_.erase(it);
  if (handlers_.closed) handlers_.closed(c->peer);
}

void StreamServer::sweep(Clock::time_point now) {
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
