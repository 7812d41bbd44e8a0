#include "service/turn_setup.hpp"

#include <openssl/rand.h>

#include <array>

#include "common/encoding.hpp"
#include "common/errors.hpp"

namespace parlor::service {

namespace asio = boost::asio;

void ensure_turn_secret(config::MediaConfig& config) {
  if (!config.turn.enabled || !config.turn.secret.empty()) return;
  std::array<uint8_t, 24> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw InternalError("turn: no randomness for the credential secret");
  }
  config.turn.secret = common::base64_encode(bytes);
}

std::optional<sfu::Worker::TurnOptions> turn_options(const config::MediaConfig& config) {
  const auto& t = config.turn;
  if (!t.enabled) return std::nullopt;
  sfu::Worker::TurnOptions o;
  o.udp_port = t.udp_port;
  o.server.realm = t.domain.empty() ? "parlor" : t.domain;
  o.server.secret = t.secret;
  o.server.max_allocations = t.max_allocations;
  if (t.tls_port != 0 && !t.cert_file.empty()) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(t.cert_file, ec);
    if (ec) throw BadInput("turn.cert_file '" + t.cert_file + "': " + ec.message());
    ctx->use_private_key_file(t.key_file, asio::ssl::context::pem, ec);
    if (ec) throw BadInput("turn.key_file '" + t.key_file + "': " + ec.message());
    o.tls = std::move(ctx);
    o.tls_port = t.tls_port;
  } else if (t.tls_port != 0 && t.external_tls) {
    o.tls_port = t.tls_port;  // plain TCP: a load balancer in front terminates TLS
  }
  o.tls_limits.max_connections = config.limit.max_ice_tcp_connections;
  o.tls_limits.send_buffer_bytes = config.limit.ice_tcp_send_buffer_bytes;
  return o;
}

}  // namespace parlor::service
