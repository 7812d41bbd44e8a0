#pragma once
// The pre-visit camera check: `POST /echo/offer` takes a browser's SDP offer and answers it;
// the browser's own audio and video then come back through the full media path (ICE-lite,
// DTLS-SRTP, unprotect → parse → rewrite SSRC → protect → send), and keyframe requests are
// passed back to the browser's encoder. Data channels are declined until SCTP lands.
//
// Threading: sessions live on a media worker (sharing its UDP socket with rooms); HTTP handlers
// only post to it. Lifetime: the worker must be stopped before this service is destroyed.
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>

#include "common/http/http_types.hpp"
#include "service/metrics.hpp"
#include "sfu/worker.hpp"

namespace parlor::service {

class EchoSession;

class EchoService {
 public:
  EchoService(sfu::Worker& worker, Metrics& metrics);
  ~EchoService();

  http::Response handle_offer(const http::Request& request);
  http::Response handle_stats(const http::Request& request);

 private:
  void schedule_sweep();

  sfu::Worker& worker_;
  Metrics& metrics_;
  boost::asio::steady_timer sweep_timer_;
  std::map<std::string, std::unique_ptr<EchoSession>> sessions_;  // by local ICE ufrag
};

}  // namespace parlor::service
