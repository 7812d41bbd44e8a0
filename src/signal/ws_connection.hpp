#pragma once
// A signaling WebSocket: a pump between the socket and a participant (LiveKit's design), so the
// participant can outlive one connection. Binary frames only; one write in flight behind a
// bounded queue; a frame-size limit; close after a final message. Over plain TCP (ws://) or TLS
// (wss://, the handshake already done by the HTTP server).
//
// Threading: all methods on the io_context the stream is bound to (the room's worker).
// Lifetime: shared_ptr; the pending async operations keep it alive. The listener is a plain
// pointer the owner clears with detach() before it goes away.
#include <atomic>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <variant>
#include <functional>
#include <memory>
#include <string>

#include "common/boundary.hpp"
#include "common/http/tls_stream.hpp"
#include "signal/signal_sink.hpp"

namespace parlor::signal {

class WsConnection : public SignalSink, public std::enable_shared_from_this<WsConnection> {
 public:
  using PlainStream = boost::beast::websocket::stream<boost::beast::tcp_stream>;
  using TlsStream = boost::beast::websocket::stream<http::TlsStream>;
  using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

  struct Limits {
    size_t max_message_bytes = 1 << 20;
    size_t max_queued_messages = 1024;
    size_t max_queued_bytes = 16 << 20;          // limit.ws_send_queue_bytes
    std::atomic<uint64_t>* overflows = nullptr;  // bumped when a full queue closes the socket
  };

  // Told about an exception that escaped the open callback or the listener ("ws_open",
  // "ws_message", "ws_close"); the connection is closed after it (last resort: the session's own
  // handlers catch first).
  using CaughtHandler = std::function<void(const char* boundary, const Caught& caught)>;

  WsConnection(boost::beast::tcp_stream stream, Limits limits, CaughtHandler on_caught = nullptr);
  WsConnection(http::TlsStream&& stream, Limits limits, CaughtHandler on_caught = nullptr);

  // Completes the upgrade; `on_open` runs once the 101 has been written (not on failure).
  void accept(UpgradeRequest request, std::function<void()> on_open);
  // Refuses the upgrade instead: a plain HTTP answer (spec §2.2: a status and a short text),
  // then the socket closes.
  void refuse(unsigned version, int status, std::string body);
  void set_listener(Listener* listener) override { listener_ = listener; }
  // Something to keep while the connection is open (a connection-limit slot); released when
  // the socket closes.
  void hold(std::shared_ptr<void> lease) { lease_ = std::move(lease); }
  void detach() override { listener_ = nullptr; }

  // Queues one binary message; false (and the connection is closed) when the queue is full.
  bool send(std::string message) override;
  // Sends what is queued, then closes with a normal close frame.
  void close() override;
  bool open() const override { return open_; }
  std::string remote_address() const override { return remote_; }

 private:
  void read();
  void write_next();
  void finish();
  void caught(const char* boundary, const Caught& what);
  void close_socket();
  // Runs fn(ws) with the WebSocket stream of whichever kind this connection is.
  template <class Fn>
  decltype(auto) with_ws(Fn&& fn) {
    return std::visit([&](auto& ws) -> decltype(auto) { return fn(ws); }, ws_);
  }

  std::variant<PlainStream, TlsStream> ws_;
  Limits limits_;
  CaughtHandler on_caught_;
  Listener* listener_ = nullptr;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  std::shared_ptr<void> lease_;
  bool writing_ = false;
  bool open_ = false;
  bool closing_ = false;
  bool finished_ = false;
  std::string remote_;
};

}  // namespace parlor::signal
