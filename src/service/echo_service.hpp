#pragma once
// The pre-visit camera check: `POST /echo/offer` takes a browser's SDP offer and answers it;
// the browser's own audio and video then come back through the full media path (ICE-lite,
// DTLS-SRTP, unprotect → parse → rewrite SSRC → protect → send), and keyframe requests are
// passed back to the browser's encoder. Data channels are declined until SCTP lands.
//
// Threading: sessions live on a media worker (sharing its UDP socket with rooms); the HTTP
// handlers are asynchronous routes that post to it and answer from the worker thread, so no
// control thread waits on it. Lifetime: destroyed on the worker thread (or after it stopped);
// a request posted after that is answered 503 by its dropped task.
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>

#include "common/http/http_server.hpp"
#include "rtc/sdp/session_description.hpp"
#include "service/metrics.hpp"
#include "sfu/worker.hpp"

namespace parlor::service {

class EchoSession;

class EchoService {
 public:
  EchoService(sfu::Worker& worker, Metrics& metrics);
  ~EchoService();

  // Any thread; `respond` is called exactly once (on this thread for a bad request, else on the
  // worker thread).
  void handle_offer(const http::Request& request, http::Respond respond);
  void handle_stats(const http::Request& request, http::Respond respond);

 private:
  void schedule_sweep();
  http::Response answer_offer(const rtc::SessionDescription& offer);

  sfu::Worker& worker_;
  Metrics& metrics_;
  boost::asio::steady_timer sweep_timer_;
  std::map<std::string, std::unique_ptr<EchoSession>> sessions_;  // by local ICE ufrag
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);    // guards posted tasks
};

}  // namespace parlor::service
