#pragma once
// The `parlor media` process object: owns the control-plane io_context and its threads, the
// HTTP router and server, the room registry, webhooks and metrics, and wires them together.
// Other modules (signaling, echo, egress) add their routes through router() before start().
//
// Lifecycle: construct → add routes → start() → ... → stop() (or destructor). start() throws
// parlor::BadInput when a port cannot be bound.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <thread>
#include <vector>

#include "common/config/media_config.hpp"
#include "common/http/http_server.hpp"
#include "service/connection_limits.hpp"
#include "service/egress_service.hpp"
#include "service/echo_service.hpp"
#include "service/join_auth.hpp"
#include "service/live_rooms.hpp"
#include "service/metrics.hpp"
#include "service/room_manager.hpp"
#include "service/room_service.hpp"
#include "service/webhook_notifier.hpp"

namespace spdlog {
class logger;
}

namespace parlor::service {

class MediaServer : public RoomEvents {
 public:
  explicit MediaServer(config::MediaConfig config);
  ~MediaServer() override;

  void start();
  void stop();
  // Blocks until stop() is called from another thread or a signal handler.
  void wait();

  uint16_t http_port() const { return http_ ? http_->port() : 0; }
  uint16_t udp_port() const { return worker_ ? worker_->udp_port() : 0; }
  uint16_t tcp_port() const { return worker_ ? worker_->tcp_port() : 0; }
  // Why rtc.tcp_port is not served (empty when it is or when ICE-TCP is off).
  std::string tcp_error() const { return worker_ ? worker_->tcp_error() : std::string(); }
  uint16_t turn_udp_port() const { return worker_ ? worker_->turn_udp_port() : 0; }
  uint16_t turn_tls_port() const { return worker_ ? worker_->turn_tls_port() : 0; }
  std::string turn_error() const { return worker_ ? worker_->turn_error() : std::string(); }
  // The media worker (after start()); tests post to it.
  sfu::Worker* worker() { return worker_.get(); }
  const config::MediaConfig& config() const { return config_; }
  boost::asio::io_context& io() { return io_; }
  http::Router& router() { return router_; }
  RoomManager& rooms() { return rooms_; }
  Metrics& metrics() { return metrics_; }
  WebhookNotifier& webhooks() { return webhooks_; }
  EgressService& egress() { return *egress_; }
  const EgressService& egress() const { return *egress_; }
  const JoinAuthorizer& join_authorizer() const { return join_auth_; }
  spdlog::logger& log() { return *log_; }
  // TLS on the main port (after start()); nullptr when it serves plain HTTP.
  const http::TlsContext* tls() const { return tls_.get(); }

  // RoomEvents
  void on_room_started(const livekit::Room& room) override;
  void on_room_finished(const livekit::Room& room) override;

 private:
  void add_routes();
  void publish_worker_metrics(const sfu::WorkerCounters& counters);
  void publish_limit_metrics();
  std::string render_metrics();
  http::Response guarded_response(const std::function<std::string()>& render);
  http::Respond within(std::chrono::milliseconds deadline, http::Respond respond,
                       std::function<http::Response()> late);
  void run_async(const http::Request& request, const http::Respond& answer,
                 const std::function<void()>& start);
  void handle_rtc_upgrade(http::Request request, http::BeastRequest raw, http::UpgradeStream stream,
                          bool single_pc);
  void schedule_sweep();
  void schedule_egress_poll();

  config::MediaConfig config_;
  std::shared_ptr<spdlog::logger> log_;
  Metrics metrics_;
  WebhookNotifier webhooks_;
  RoomManager rooms_;
  JoinAuthorizer join_auth_;
  RoomService room_service_;
  // Recording (issue 12); declared before the worker and the live rooms it records from, so it
  // is stopped (stop()) while they run and destroyed after them.
  std::unique_ptr<EgressService> egress_;
  ConnectionLimiter ws_limiter_;  // WebSockets per address / room; leases may outlive it
  // Media: one worker for now (rooms would be pinned to one of several); the worker outlives
  // the services pinned to it and is stopped before they are destroyed.
  std::unique_ptr<sfu::Worker> worker_;
  std::unique_ptr<EchoService> echo_;
  std::unique_ptr<LiveRooms> live_;
  boost::asio::io_context io_;
  http::Router router_;
  std::shared_ptr<http::TlsContext> tls_;
  std::unique_ptr<http::Server> http_;
  boost::asio::steady_timer sweep_timer_;
  boost::asio::steady_timer egress_timer_;
  std::vector<std::thread> threads_;
  std::atomic<int64_t>& rooms_gauge_;
  std::atomic<uint64_t>& http_requests_;
  bool stopped_ = false;
};

}  // namespace parlor::service
