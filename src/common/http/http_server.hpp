#pragma once
// HTTP/1.1 server on Boost.Beast, shared by the media server and the visitation app.
//
// Ownership: the caller owns the io_context and the Router; both must outlive the Server.
// Threading: everything runs on the given io_context; handlers are called on its thread(s).
// Limits: request header and body sizes and a per-request read/idle timeout are enforced for
// every connection; a violation answers 413/431/400 and then reads and discards what the client
// is still sending (up to drain_limit bytes or drain_timeout) before closing, so the client
// reads the answer instead of a connection reset. Response::file bodies are streamed from disk
// in file_chunk_bytes pieces.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/boundary.hpp"
#include "common/http/http_types.hpp"
#include "common/http/tls_context.hpp"
#include "common/http/tls_stream.hpp"

namespace parlor::http {

using Handler = std::function<Response(const Request&)>;
// Completes an asynchronous request. Call it exactly once, from any thread.
using Respond = std::function<void(Response)>;
// A handler that answers later (e.g. after work on another thread pool). It must copy what it
// needs from the request before returning; the request is not kept alive for it.
using AsyncHandler = std::function<void(const Request&, Respond)>;
using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Receives a WebSocket upgrade request together with its connection (plain, or TLS with the
// handshake done; Request::secure tells which). The handler takes ownership of the stream (and
// of bytes already buffered after the request) and is expected to either accept the upgrade or
// write an HTTP error itself.
using UpgradeHandler = std::function<void(Request request, BeastRequest raw, UpgradeStream stream,
                                          boost::beast::flat_buffer buffer)>;

class Router {
 public:
  // Exact path match for a method ("*" = any method).
  void add(std::string method, std::string path, Handler handler);
  // Prefix match (longest prefix wins), used e.g. for "/twirp/".
  void add_prefix(std::string method, std::string prefix, Handler handler);
  // An asynchronous handler for an exact path, or a path prefix ("*" = any method); tried
  // before the plain routes (longest path wins).
  void add_async(std::string method, std::string path, bool prefix, AsyncHandler handler);
  // WebSocket upgrade for an exact path. Non-upgrade requests to the path fall through to the
  // plain routes (and 404 if none).
  void add_upgrade(std::string path, UpgradeHandler handler);
  // Fallback for unmatched GETs (e.g. a single-page app's index.html); none = 404.
  void set_fallback(Handler handler) { fallback_ = std::move(handler); }
  // CORS: answer preflight OPTIONS and add Access-Control-Allow-Origin to every response.
  void set_cors(bool enabled) { cors_ = enabled; }
  // Told about every exception a handler let escape (boundary "http" or "ws_upgrade"), after
  // it became a 4xx/5xx (or, for an upgrade, the connection was dropped). Any thread.
  using CaughtHandler =
      std::function<void(const char* boundary, const Request& request, const Caught& caught)>;
  void set_caught_handler(CaughtHandler handler) { on_caught_ = std::move(handler); }

  // Never throws: what a handler throws becomes 400 (BadInput), 401 (Unauthenticated) or 500.
  Response route(const Request& request) const;
  // Answers through `respond`: an asynchronous route when one matches, else route().
  void route_async(const Request& request, Respond respond) const;
  const UpgradeHandler* find_upgrade(const std::string& path) const;
  // Runs an upgrade handler at the connection's boundary: what it throws is reported and the
  // connection (which the handler owns) is dropped.
  void upgrade(const UpgradeHandler& handler, Request request, BeastRequest raw,
               UpgradeStream stream, boost::beast::flat_buffer buffer) const;

 private:
  Response call(const Handler& handler, const Request& request) const;

  struct Route {
    std::string method, path;
    bool prefix;
    Handler handler;
  };
  std::vector<Route> routes_;
  struct AsyncRoute {
    std::string method, path;
    bool prefix;
    AsyncHandler handler;
  };
  std::vector<AsyncRoute> async_routes_;
  std::vector<std::pair<std::string, UpgradeHandler>> upgrades_;
  Handler fallback_;
  bool cors_ = true;
  CaughtHandler on_caught_;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0 = ephemeral; read back with Server::port()
  size_t body_limit = 1 << 20;
  size_t header_limit = 64 * 1024;  // /rtc/v1 carries the whole join request in the query
  std::chrono::seconds timeout{30};
  size_t file_chunk_bytes = 64 * 1024;  // read size (and memory) per streamed file download
  size_t drain_limit = 8 << 20;         // after a refused request, bytes read and discarded
  std::chrono::seconds drain_timeout{5};
  std::string server_header = "parlor";
  // TLS on this listener (HTTPS and WSS only; a plain-HTTP client gets its connection closed
  // after the failed handshake). Its files are checked for a reload every reload_interval.
  std::shared_ptr<TlsContext> tls;
  // Told about certificate reloads (failed = a bad file was left unused); stderr when unset.
  std::function<void(bool failed, const std::string& message)> log;
};

class Server {
 public:
  Server(boost::asio::io_context& io, const Router& router, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Throws parlor::BadInput if the address cannot be bound.
  void start();
  void stop();
  uint16_t port() const { return port_; }

 private:
  void accept();
  void schedule_tls_reload(std::weak_ptr<bool> alive);

  boost::asio::io_context& io_;
  const Router& router_;
  ServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer reload_timer_;
  uint16_t port_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Converts a Beast request into our plain Request (path decoded, query parsed).
Request to_request(const BeastRequest& raw, std::string remote_address);

}  // namespace parlor::http
