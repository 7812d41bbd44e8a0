#pragma once
// The pre-visit camera check: `POST /echo/offer` takes a browser's SDP offer and answers it;
// the browser's own audio and video then come back through the full media path (ICE-lite,
// DTLS-SRTP, unprotect → parse → rewrite SSRC → protect → send), and keyframe requests are
// passed back to the browser's encoder. Data channels are declined until SCTP lands.
//
// Threading: sessions live on the service's own media worker (one io_context thread with one
// UDP socket); HTTP handlers only post to it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "common/config/media_config.hpp"
#include "common/http/http_types.hpp"
#include "rtc/dtls/dtls_transport.hpp"
#include "rtc/net/udp_socket.hpp"
#include "service/metrics.hpp"

namespace parlor::service {

class EchoSession;

class EchoService {
 public:
  EchoService(const config::MediaConfig& config, Metrics& metrics);
  ~EchoService();

  http::Response handle_offer(const http::Request& request);
  http::Response handle_stats(const http::Request& request);
  uint16_t udp_port() const { return socket_ ? socket_->port() : 0; }

 private:
  void on_datagram(std::span<uint8_t> data, const rtc::UdpEndpoint& from);
  void schedule_sweep();

  const config::MediaConfig& config_;
  Metrics& metrics_;
  std::shared_ptr<rtc::DtlsCertificate> certificate_;
  boost::asio::io_context io_;
  std::unique_ptr<rtc::UdpSocket> socket_;
  boost::asio::steady_timer sweep_timer_;
  std::map<std::string, std::unique_ptr<EchoSession>> sessions_;  // by local ICE ufrag
  std::thread thread_;
  std::string advertised_ip_;
};

}  // namespace parlor::service
