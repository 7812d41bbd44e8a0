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
  // The first worker's ports (worker i listens on udp_port + i and tcp_port + i when those are
  // configured, on ephemeral ports otherwise: udp_ports()).
  uint16_t udp_port() const { return workers_.empty() ? 0 : workers_.front()->udp_port(); }
  uint16_t tcp_port() const { return workers_.empty() ? 0 : workers_.front()->tcp_port(); }
  std::vector<uint16_t> udp_ports() const;
  std::vector<uint16_t> tcp_ports() const;  // 0 where a worker serves no ICE-TCP
  // Why rtc.tcp_port is not served (empty when it is or when ICE-TCP is off).
  std::string tcp_error() const { return workers_.empty() ? std::string() : workers_.front()->tcp_error(); }
  // TURN is served by worker 0, relaying to every worker's media port.
  uint16_t turn_udp_port() const { return workers_.empty() ? 0 : workers_.front()->turn_udp_port(); }
  uint16_t turn_tls_port() const { return workers_.empty() ? 0 : workers_.front()->turn_tls_port(); }
  std::string turn_error() const { return workers_.empty() ? std::string() : workers_.front()->turn_error(); }
  // The media workers (after start()); tests post to them. worker() is the first.
  sfu::Worker* worker(size_t i = 0) { return i < workers_.size() ? workers_[i].get() : nullptr; }
  size_t worker_count() const { return workers_.size(); }
  // The live rooms (after start()).
  LiveRooms* live_rooms() { return live_.get(); }
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
  void publish_worker_metrics(const std::vector<sfu::WorkerCounters>& per_worker);
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
  // Media: rtc.workers workers (rooms are placed on one each by LiveRooms; the camera check runs
  // on worker 0); they outlive the services pinned to them and are stopped before those are
  // destroyed.
  std::vector<std::unique_ptr<sfu::Worker>> workers_;
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
