#include "signal/ws_connection.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace parlor::signal {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

WsConnection::WsConnection(beast::tcp_stream stream, Limits limits, CaughtHandler on_caught)
    : ws_(std::in_place_type<PlainStream>, std::move(stream)), limits_(limits),
      on_caught_(std::move(on_caught)) {
  boost::system::error_code ec;
  auto ep = std::get<PlainStream>(ws_).next_layer().socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string();
}

WsConnection::WsConnection(http::TlsStream&& stream, Limits limits, CaughtHandler on_caught)
    : ws_(std::in_place_type<TlsStream>, std::move(stream)), limits_(limits),
      on_caught_(std::move(on_caught)) {
  boost::system::error_code ec;
  auto ep = std::get<TlsStream>(ws_).next_layer().next_layer().socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string();
}

void WsConnection::close_socket() {
  with_ws([](auto& ws) {
    boost::system::error_code ec;
    beast::get_lowest_layer(ws).socket().close(ec);
  });
}

void WsConnection::accept(UpgradeRequest request, std::function<void()> on_open) {
  auto self = shared_from_this();
  with_ws([&](auto& ws) {
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(beast::http::field::server, "parlor");
    }));
    ws.read_message_max(limits_.max_message_bytes);
    ws.binary(true);
    ws.async_accept(request, [self, on_open = std::move(on_open)](beast::error_code ec) {
      if (ec) {
        self->finish();
        return;
      }
      self->open_ = true;
      if (auto what = guarded(on_open)) return self->caught("ws_open", *what);
      self->read();
    });
  });
}

void WsConnection::refuse(unsigned version, int status, std::string body) {
  namespace bhttp = beast::http;
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(status), version);
  res->set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res->set(bhttp::field::access_control_allow_origin, "*");
  res->keep_alive(false);
  res->body() = std::move(body);
  res->prepare_payload();
  auto self = shared_from_this();
  with_ws([&](auto& ws) {
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(5));
    // Written through the TLS layer when there is one (the WebSocket's next layer).
    bhttp::async_write(ws.next_layer(), *res, [self, res](beast::error_code, size_t) {
      self->with_ws([](auto& w) {
        boost::system::error_code ec;
        beast::get_lowest_layer(w).socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send,
                                                     ec);
      });
      self->finish();
    });
  });
}

void WsConnection::read() {
  auto self = shared_from_this();
  with_ws([&](auto& ws) {
    ws.async_read(buffer_, [self](beast::error_code ec, size_t) {
      if (ec) {
        self->finish();
        return;
      }
      auto data = self->buffer_.data();
      std::string_view message(static_cast<const char*>(data.data()), data.size());
      if (self->listener_) {
        if (auto what = guarded([&] { self->listener_->on_ws_message(message); })) {
          return self->caught("ws_message", *what);
        }
      }
      self->buffer_.consume(self->buffer_.size());
      if (self->open_) self->read();
    });
  });
}

bool WsConnection::send(std::string message) {
  if (!open_ || closing_) return false;
  if (queue_.size() >= limits_.max_queued_messages ||
      queued_bytes_ + message.size() > limits_.max_queued_bytes) {
    // A peer that does not read its signaling is gone for practical purposes.
    if (limits_.overflows) limits_.overflows->fetch_add(1, std::memory_order_relaxed);
    close_socket();
    return false;
  }
  queued_bytes_ += message.size();
  queue_.push_back(std::move(message));
  if (!writing_) write_next();
  return true;
}

void WsConnection::write_next() {
  auto self = shared_from_this();
  if (queue_.empty()) {
    writing_ = false;
    if (closing_ && open_) {
      with_ws([&](auto& ws) {
        ws.async_close(websocket::close_code::normal,
                       [self](beast::error_code) { self->finish(); });
      });
    }
    return;
  }
  writing_ = true;
  with_ws([&](auto& ws) {
    ws.binary(true);
    ws.async_write(boost::asio::buffer(queue_.front()), [self](beast::error_code ec, size_t) {
      self->queued_bytes_ -= self->queue_.front().size();
      self->queue_.pop_front();
      if (ec) {
        self->queue_.clear();
        self->queued_bytes_ = 0;
        self->writing_ = false;
        self->finish();
        return;
      }
      self->write_next();
    });
  });
}

void WsConnection::close() {
  if (closing_ || !open_) return;
  closing_ = true;
  if (!writing_) write_next();
}

void WsConnection::finish() {
  open_ = false;
  if (finished_) return;
  finished_ = true;
  close_socket();
  lease_.reset();  // the connection-limit slot is free again
  if (listener_) {
    auto* l = listener_;
    listener_ = nullptr;
    if (auto what = guarded([&] { l->on_ws_closed(); })) caught("ws_close", *what);
  }
}

void WsConnection::caught(const char* boundary, const Caught& what) {
  if (on_caught_) guarded([&] { on_caught_(boundary, what); });
  finish();
}

}  // namespace parlor::signal
