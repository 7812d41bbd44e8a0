#pragma once
// The stream types a connection can have: plain TCP (beast::tcp_stream) or TLS over TCP.
//
// The media server moves a signaling connection from the HTTP thread's io_context to the room's
// worker after the upgrade request (SignalServer::accept). A plain socket moves by handing over
// its descriptor. A TLS stream cannot be rebuilt around the descriptor (the session keys live in
// its OpenSSL object), so its transport is a TCP stream that can be swapped underneath it:
// RehomableTcpStream::rehome() moves the descriptor to another io_context while the TLS stream
// above keeps its state. Rehome only with no operation pending.
//
// asio's ssl::stream keeps two internal timers (it serialises reads and writes of the transport
// with them) on the io_context it was created on; they are only waited on when a read and a
// write contend for the transport, and their completions run on the stream's executor, which
// after rehome() is the worker's. That io_context must outlive the stream (MediaServer tears the
// rooms down before its control io_context goes).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <memory>
#include <variant>

namespace parlor::http {

class RehomableTcpStream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;
  using lowest_layer_type = RehomableTcpStream;

  explicit RehomableTcpStream(boost::asio::ip::tcp::socket socket)
      : stream_(std::make_unique<boost::beast::tcp_stream>(std::move(socket))) {}

  executor_type get_executor() noexcept { return stream_->get_executor(); }
  lowest_layer_type& lowest_layer() { return *this; }
  const lowest_layer_type& lowest_layer() const { return *this; }
  boost::asio::ip::tcp::socket& socket() { return stream_->socket(); }
  void expires_after(std::chrono::steady_clock::duration d) { stream_->expires_after(d); }
  void expires_never() { stream_->expires_never(); }
  void cancel() { stream_->cancel(); }

  template <class Buffers, class Handler>
  auto async_read_some(const Buffers& buffers, Handler&& handler) {
    return stream_->async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <class Buffers, class Handler>
  auto async_write_some(const Buffers& buffers, Handler&& handler) {
    return stream_->async_write_some(buffers, std::forward<Handler>(handler));
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
    return stream_->read_some(buffers, ec);
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers, boost::system::error_code& ec) {
    return stream_->write_some(buffers, ec);
  }

  // Moves the connection onto `io` (no operation may be pending). False when the socket is
  // already closed or cannot be moved.
  bool rehome(boost::asio::io_context& io) {
    boost::system::error_code ec;
    auto protocol = stream_->socket().local_endpoint(ec).protocol();
    if (ec) return false;
    int fd = stream_->socket().release(ec);
    if (ec) return false;
    stream_ = std::make_unique<boost::beast::tcp_stream>(boost::asio::ip::tcp::socket(io, protocol, fd));
    return true;
  }

  // beast::close_socket (used by the WebSocket timeout) finds this by argument-dependent lookup.
  friend void beast_close_socket(RehomableTcpStream& s) {
    boost::system::error_code ec;
    s.socket().close(ec);
  }

 private:
  std::unique_ptr<boost::beast::tcp_stream> stream_;
};

using TlsStream = boost::asio::ssl::stream<RehomableTcpStream>;

// The connection handed to an upgrade handler: plain, or TLS with the handshake done.
using UpgradeStream = std::variant<boost::beast::tcp_stream, std::unique_ptr<TlsStream>>;

}  // namespace parlor::http
