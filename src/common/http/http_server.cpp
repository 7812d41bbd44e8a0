#include "common/http/http_server.hpp"

#include <unistd.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/asio/ssl/error.hpp>
#include <iostream>
#include <optional>
#include <type_traits>

#include "common/encoding.hpp"
#include "common/errors.hpp"

namespace parlor::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// ---- Router ----

void Router::add(std::string method, std::string path, Handler handler) {
  routes_.push_back({std::move(method), std::move(path), false, std::move(handler)});
}

void Router::add_prefix(std::string method, std::string prefix, Handler handler) {
  routes_.push_back({std::move(method), std::move(prefix), true, std::move(handler)});
}

void Router::add_upgrade(std::string path, UpgradeHandler handler) {
  upgrades_.emplace_back(std::move(path), std::move(handler));
}

void Router::add_async(std::string method, std::string path, bool prefix, AsyncHandler handler) {
  async_routes_.push_back({std::move(method), std::move(path), prefix, std::move(handler)});
}

void Router::route_async(const Request& req, Respond respond) const {
  const AsyncRoute* best = nullptr;
  for (const auto& r : async_routes_) {
    if (r.prefix ? req.path.rfind(r.path, 0) != 0 : req.path != r.path) continue;
    if (r.method != "*" && r.method != req.method) continue;
    if (!best || r.path.size() > best->path.size()) best = &r;
  }
  if (!best || (cors_ && req.method == "OPTIONS")) return respond(route(req));
  auto finish = [cors = cors_, respond](Response res) {
    if (cors && res.header("Access-Control-Allow-Origin").empty()) {
      res.with_header("Access-Control-Allow-Origin", "*");
    }
    respond(std::move(res));
  };
  try {
    best->handler(req, finish);
  } catch (const std::exception& e) {
    finish(Response::text(500, "internal error"));
  }
}

const UpgradeHandler* Router::find_upgrade(const std::string& path) const {
  for (const auto& [p, h] : upgrades_) {
    if (p == path) return &h;
  }
  return nullptr;
}

// The HTTP boundary: a handler's exception becomes a status, never leaves the connection.
Response Router::call(const Handler& handler, const Request& req) const {
  try {
    return handler(req);
  } catch (...) {
    Caught caught = describe_current_exception();
    Response res;
    try {
      throw;
    } catch (const BadInput& e) {
      res = Response::text(400, e.what());
    } catch (const Unauthenticated& e) {
      res = Response::text(401, e.what());
    } catch (...) {
      res = Response::text(500, "internal error");
    }
    if (on_caught_) guarded([&] { on_caught_("http", req, caught); });
    return res;
  }
}

void Router::upgrade(const UpgradeHandler& handler, Request req, BeastRequest raw,
                     UpgradeStream stream, beast::flat_buffer buffer) const {
  Request copy = req;  // for the report; the handler takes the original
  auto caught = guarded(
      [&] { handler(std::move(req), std::move(raw), std::move(stream), std::move(buffer)); });
  if (caught && on_caught_) guarded([&] { on_caught_("ws_upgrade", copy, *caught); });
}

Response Router::route(const Request& req) const {
  Response res;
  if (cors_ && req.method == "OPTIONS") {
    // Preflight: LiveKit allows any origin, the usual methods and any request header.
    res.status = 204;
    res.with_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
    auto asked = req.header("access-control-request-headers");
    res.with_header("Access-Control-Allow-Headers", asked.empty() ? "*" : asked);
    res.with_header("Access-Control-Max-Age", "600");
  } else {
    const Route* best = nullptr;
    bool path_matched = false;
    for (const auto& r : routes_) {
      bool match = r.prefix ? req.path.rfind(r.path, 0) == 0 : req.path == r.path;
      if (!match) continue;
      path_matched = true;
      bool method_ok = r.method == "*" || r.method == req.method ||
                       (req.method == "HEAD" && r.method == "GET");
      if (!method_ok) continue;
      if (!best || (!r.prefix && best->prefix) ||
          (r.prefix && best->prefix && r.path.size() > best->path.size())) {
        best = &r;
      }
    }
    if (best) {
      res = call(best->handler, req);
    } else if (path_matched) {
      res = Response::text(405, "method not allowed");
    } else if (fallback_ && (req.method == "GET" || req.method == "HEAD")) {
      res = call(fallback_, req);
    } else {
      res = Response::text(404, "404 page not found");
    }
  }
  if (cors_ && res.header("Access-Control-Allow-Origin").empty()) {
    res.with_header("Access-Control-Allow-Origin", "*");
  }
  return res;
}

Request to_request(const BeastRequest& raw, std::string remote_address) {
  Request req;
  req.method = std::string(raw.method_string());
  req.target = std::string(raw.target());
  auto q = req.target.find('?');
  std::string_view raw_path = std::string_view(req.target).substr(0, q);
  auto decoded = common::url_decode(raw_path);
  req.path = decoded ? *decoded : std::string(raw_path);
  if (q != std::string::npos) req.query = parse_query(std::string_view(req.target).substr(q + 1));
  for (const auto& f : raw) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = std::string(f.value());
  }
  req.body = raw.body();
  req.remote_address = std::move(remote_address);
  return req;
}

// ---- Connection ----

namespace {

// The TCP layer under either stream kind (timeouts, the socket).
beast::tcp_stream& tcp_of(beast::tcp_stream& s) { return s; }
RehomableTcpStream& tcp_of(TlsStream& s) { return s.next_layer(); }

// One HTTP connection, plain (Stream = beast::tcp_stream) or TLS (Stream = TlsStream).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Session(std::unique_ptr<Stream> stream, const Router& router, const ServerOptions& options,
          std::weak_ptr<bool> server_alive)
      : stream_(std::move(stream)), router_(router), options_(options),
        server_alive_(std::move(server_alive)) {}

  void run() {
    if constexpr (kTls) {
      // Bounded like every other wait: a client that connects and never finishes the
      // handshake (or speaks plain HTTP, or garbage) is cut off and counted.
      tcp_of(*stream_).expires_after(options_.tls->options().handshake_timeout);
      stream_->async_handshake(boost::asio::ssl::stream_base::server,
                               [self = this->shared_from_this()](beast::error_code ec) {
                                 if (self->server_alive_.expired()) return;
                                 if (ec) {
                                   self->options_.tls->count_handshake_failure();
                                   return self->close();
                                 }
                                 self->read();
                               });
    } else {
      read();
    }
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(options_.body_limit);
    parser_->header_limit(static_cast<uint32_t>(options_.header_limit));
    tcp_of(*stream_).expires_after(options_.timeout);
    bhttp::async_read(*stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        self->on_read(ec);
                      });
  }

  void on_read(beast::error_code ec) {
    if (server_alive_.expired()) return;
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      close();
      return;
    }
    if (ec == bhttp::error::body_limit) return fail(413, "request body too large");
    if (ec == bhttp::error::header_limit) return fail(431, "request header too large");
    // A TLS failure (bad record, a peer that vanished mid-record): nobody to answer.
    if (ec.category() == asio::error::get_ssl_category() ||
        ec.category() == asio::ssl::error::get_stream_category()) {
      return close();
    }
    if (ec) return fail(400, "malformed HTTP request");

    BeastRequest raw = parser_->release();
    std::string remote;
    beast::error_code ignored;
    auto ep = tcp_of(*stream_).socket().remote_endpoint(ignored);
    if (!ignored) remote = ep.address().to_string();
    Request req = to_request(raw, remote);
    req.secure = kTls;

    if (beast::websocket::is_upgrade(raw)) {
      if (const auto* handler = router_.find_upgrade(req.path)) {
        tcp_of(*stream_).expires_never();
        UpgradeStream upgraded = [&]() -> UpgradeStream {
          if constexpr (kTls) {
            return UpgradeStream(std::move(stream_));
          } else {
            return UpgradeStream(std::in_place_index<0>, std::move(*stream_));
          }
        }();
        router_.upgrade(*handler, std::move(req), std::move(raw), std::move(upgraded),
                        std::move(buffer_));
        return;
      }
    }
    router_.route_async(
        req, [self = this->shared_from_this(), version = raw.version(),
              keep_alive = raw.keep_alive(), head = req.method == "HEAD"](Response res) {
          // Handlers may answer from another thread: the write runs on the connection's strand.
          asio::dispatch(self->stream_->get_executor(),
                         [self, res = std::move(res), version, keep_alive, head]() mutable {
                           if (self->server_alive_.expired()) return;
                           self->write(std::move(res), version, keep_alive, head);
                         });
        });
  }

  // A refused request: answer, then drain what the client is still sending before closing.
  void fail(int status, const char* message) {
    drain_after_write_ = true;
    write(Response::text(status, message), 11, false, false);
  }

  // Headers every response gets from the server itself.
  template <class Message>
  void set_server_headers(Message& msg) {
    msg.set(bhttp::field::server, options_.server_header);
    // RFC 6797 §7.2: only over a secure transport; a plain-HTTP response never carries it.
    if (kTls && options_.tls->options().hsts_max_age > 0) {
      msg.set(bhttp::field::strict_transport_security,
              "max-age=" + std::to_string(options_.tls->options().hsts_max_age));
    }
  }

  void write(Response res, unsigned version, bool keep_alive, bool head) {
    if (res.file && res.file->length() > 0)
      return write_file(std::move(res), version, keep_alive, head);
    auto msg = std::make_shared<bhttp::response<bhttp::string_body>>();
    msg->version(version);
    msg->result(static_cast<unsigned>(res.status));
    set_server_headers(*msg);
    for (auto& [k, v] : res.headers) msg->set(k, v);
    msg->keep_alive(keep_alive);
    if (head) {
      msg->content_length(res.body.size());
    } else {
      msg->body() = std::move(res.body);
      msg->prepare_payload();
    }
    tcp_of(*stream_).expires_after(options_.timeout);
    bool close_after = !keep_alive;
    if (head) {
      auto sr = std::make_shared<bhttp::response_serializer<bhttp::string_body>>(*msg);
      bhttp::async_write_header(*stream_, *sr,
                                [self = this->shared_from_this(), msg, sr, close_after](
                                    beast::error_code ec, size_t) {
                                  self->after_write(ec, close_after);
                                });
      return;
    }
    bhttp::async_write(*stream_, *msg,
                       [self = this->shared_from_this(), msg, close_after](beast::error_code ec,
                                                                           size_t) {
                         self->after_write(ec, close_after);
                       });
  }

  // Streams a FileBody: the header, then one chunk at a time from a single buffer, read with
  // pread as the socket takes the previous chunk.
  struct FileSend {
    bhttp::response<bhttp::buffer_body> msg;
    bhttp::response_serializer<bhttp::buffer_body> sr{msg};
    std::shared_ptr<FileBody> file;
    uint64_t sent = 0;
    std::vector<char> buf;
  };

  void write_file(Response res, unsigned version, bool keep_alive, bool head) {
    auto fs = std::make_shared<FileSend>();
    fs->file = std::move(res.file);
    auto& msg = fs->msg;
    msg.version(version);
    msg.result(static_cast<unsigned>(res.status));
    set_server_headers(msg);
    for (auto& [k, v] : res.headers) msg.set(k, v);
    msg.keep_alive(keep_alive);
    msg.content_length(fs->file->length());
    msg.body().data = nullptr;
    msg.body().more = !head;
    tcp_of(*stream_).expires_after(options_.timeout);
    bool close_after = !keep_alive;
    bhttp::async_write_header(
        *stream_, fs->sr,
        [self = this->shared_from_this(), fs, head, close_after](beast::error_code ec, size_t) {
          if (ec || head) return self->after_write(ec, close_after);
          fs->buf.resize(std::min<uint64_t>(self->options_.file_chunk_bytes, fs->file->length()));
          self->write_file_chunk(fs, close_after);
        });
  }

  void write_file_chunk(const std::shared_ptr<FileSend>& fs, bool close_after) {
    uint64_t left = fs->file->length() - fs->sent;
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, fs->buf.size()));
    ssize_t got = ::pread(fs->file->fd(), fs->buf.data(), want,
                          static_cast<off_t>(fs->file->offset() + fs->sent));
    if (got <= 0) return close();  // file shrank or failed: the length was promised, so cut off
    fs->sent += static_cast<uint64_t>(got);
    fs->msg.body().data = fs->buf.data();
    fs->msg.body().size = static_cast<size_t>(got);
    fs->msg.body().more = fs->sent < fs->file->length();
    tcp_of(*stream_).expires_after(options_.timeout);
    bhttp::async_write(*stream_, fs->sr,
                       [self = this->shared_from_this(), fs, close_after](beast::error_code ec,
                                                                          size_t) {
                         if (ec == bhttp::error::need_buffer) {
                           return self->write_file_chunk(fs, close_after);
                         }
                         self->after_write(ec, close_after);
                       });
  }

  void after_write(beast::error_code ec, bool close_after) {
    if (!ec && drain_after_write_) return drain();
    if (ec || close_after) return close();
    read();
  }

  // Sends FIN, then reads and discards until the client closes, drain_limit bytes were read or
  // drain_timeout passed. Closing with unread data would make the kernel send RST, and a client
  // still writing its body could lose the answer. Over TLS the discarded bytes are records,
  // read below the TLS layer.
  void drain() {
    beast::error_code ec;
    tcp_of(*stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    buffer_.clear();
    drain_buf_.resize(16 * 1024);
    tcp_of(*stream_).expires_after(options_.drain_timeout);
    drain_more();
  }

  void drain_more() {
    tcp_of(*stream_).async_read_some(
        asio::buffer(drain_buf_), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
          self->drained_ += n;
          if (ec || self->drained_ >= self->options_.drain_limit) {
            return self->close();
          }
          self->drain_more();
        });
  }

  void close() {
    if (!stream_) return;
    beast::error_code ec;
    tcp_of(*stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    tcp_of(*stream_).socket().close(ec);
  }

  std::unique_ptr<Stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  const Router& router_;
  const ServerOptions& options_;
  std::weak_ptr<bool> server_alive_;
  bool drain_after_write_ = false;
  std::vector<char> drain_buf_;
  size_t drained_ = 0;
};

}  // namespace

// ---- Server ----

Server::Server(asio::io_context& io, const Router& router, ServerOptions options)
    : io_(io), router_(router), options_(std::move(options)), acceptor_(io), reload_timer_(io) {}

Server::~Server() { stop(); }

void Server::start() {
  beast::error_code ec;
  auto addr = asio::ip::make_address(options_.address, ec);
  if (ec) throw BadInput("http: invalid bind address '" + options_.address + "'");
  tcp::endpoint ep(addr, options_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw BadInput("http: cannot listen on " + options_.address + ":" +
                   std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  accept();
  if (options_.tls) schedule_tls_reload(alive_);
}

void Server::stop() {
  alive_.reset();
  beast::error_code ec;
  acceptor_.close(ec);
  // The reload timer is left alone (its handler may be running on another thread): it sees the
  // server gone and does not wait again; the io_context's stop ends a pending wait.
}

// Checks the certificate and key files' stamps every reload_interval; a changed pair is loaded
// off to the side and swapped in for new connections, a bad one keeps the old context. Only
// this chain of handlers touches the timer, one at a time.
void Server::schedule_tls_reload(std::weak_ptr<bool> alive) {
  reload_timer_.expires_after(options_.tls->options().reload_interval);
  reload_timer_.async_wait([this, alive](beast::error_code ec) {
    if (ec || alive.expired()) return;
    auto result = options_.tls->reload_if_changed();
    if (result.outcome != TlsContext::Reload::kUnchanged) {
      bool failed = result.outcome == TlsContext::Reload::kFailed;
      if (options_.log) {
        guarded([&] { options_.log(failed, result.message); });
      } else {
        std::cerr << (failed ? "warning: " : "") << result.message << std::endl;
      }
    }
    schedule_tls_reload(alive);
  });
}

void Server::accept() {
  std::weak_ptr<bool> alive = alive_;
  acceptor_.async_accept(asio::make_strand(io_), [this, alive](beast::error_code ec,
                                                               tcp::socket socket) {
    if (alive.expired()) return;
    if (!ec) {
      if (options_.tls) {
        // The context of the moment: a reload affects the connections that come after it.
        // SSL_new can fail (out of memory): that connection is dropped, the server goes on.
        guarded([&] {
          auto stream = std::make_unique<TlsStream>(RehomableTcpStream(std::move(socket)),
                                                    *options_.tls->current());
          std::make_shared<Session<TlsStream>>(std::move(stream), router_, options_, alive)
              ->run();
        });
      } else {
        auto stream = std::make_unique<beast::tcp_stream>(std::move(socket));
        std::make_shared<Session<beast::tcp_stream>>(std::move(stream), router_, options_, alive)
            ->run();
      }
    }
    if (acceptor_.is_open()) accept();
  });
}

}  // namespace parlor::http
