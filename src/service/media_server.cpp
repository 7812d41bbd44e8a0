#include "service/media_server.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>

#include "main/commands.hpp"
#include "service/twirp.hpp"

namespace parlor::service {

namespace {
constexpr auto kSweepInterval = std::chrono::seconds(1);
constexpr unsigned kControlThreads = 2;  // HTTP + signaling; media runs on its own workers
}  // namespace

MediaServer::MediaServer(config::MediaConfig config)
    : config_(std::move(config)),
      log_(std::make_shared<spdlog::logger>(
          "media", std::make_shared<spdlog::sinks::stderr_color_sink_mt>())),
      webhooks_(config_, metrics_),
      rooms_(config_, *this),
      join_auth_(config_, rooms_),
      room_service_(config_, rooms_),
      sweep_timer_(io_),
      rooms_gauge_(metrics_.gauge("parlor_rooms", "Rooms open on this node")),
      http_requests_(metrics_.counter("parlor_http_requests_total", "HTTP requests routed")) {
  log_->set_level(spdlog::level::from_str(config_.logging.level));
  add_routes();
}

MediaServer::~MediaServer() { stop(); }

void MediaServer::add_routes() {
  auto ok = [this](const http::Request&) {
    http_requests_++;
    return http::Response::text(200, "OK");
  };
  router_.add("GET", "/", ok);
  router_.add("GET", "/healthz", ok);

  // /rtc/validate answers like the upgrade would (spec §2.1: never a bare 404 here, or JS
  // loops). /rtc/v1 is not served yet, so its validate answers a generic 404 that makes the
  // clients fall back to /rtc.
  router_.add("GET", "/rtc/validate", [this](const http::Request& req) {
    http_requests_++;
    auto d = join_auth_.authorize(req);
    if (d.status != 200) return http::Response::text(d.status, d.message);
    return http::Response::text(200, "success");
  });
  router_.add("GET", "/rtc/v1/validate", [this](const http::Request&) {
    http_requests_++;
    return http::Response::text(404, "404 page not found");
  });

  router_.add("GET", "/metrics", [this](const http::Request&) {
    http_requests_++;
    rooms_gauge_ = static_cast<int64_t>(rooms_.list({}).size());
    http::Response r;
    r.body = metrics_.render();
    r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4");
    return r;
  });

  // The camera check (issue 3): a browser loop-back through the media path.
  router_.add("POST", "/echo/offer", [this](const http::Request& req) {
    http_requests_++;
    return echo_->handle_offer(req);
  });
  router_.add("GET", "/echo/stats", [this](const http::Request& req) {
    http_requests_++;
    return echo_->handle_stats(req);
  });

  router_.add_prefix("*", "/twirp/livekit.RoomService/", [this](const http::Request& req) {
    http_requests_++;
    return room_service_.handle(req);
  });
  router_.add_prefix("*", "/twirp/", [this](const http::Request& req) {
    http_requests_++;
    return twirp_error_response("bad_route", "no such service: " + req.path);
  });
}

void MediaServer::start() {
  echo_ = std::make_unique<EchoService>(config_, metrics_);
  http::ServerOptions opts;
  opts.address = config_.bind_addresses.front();
  opts.port = config_.port;
  opts.body_limit = config_.limit.max_request_body_bytes;
  opts.timeout = std::chrono::seconds(config_.limit.http_timeout_seconds);
  opts.server_header = std::string("parlor/") + cmd::kVersion;
  http_ = std::make_unique<http::Server>(io_, router_, opts);
  http_->start();
  schedule_sweep();
  for (unsigned i = 0; i < kControlThreads; ++i) {
    threads_.emplace_back([this] { io_.run(); });
  }
  log_->info("listening http={}:{} udp={}", opts.address, http_->port(), echo_->udp_port());
}

void MediaServer::schedule_sweep() {
  sweep_timer_.expires_after(kSweepInterval);
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    rooms_.sweep();
    schedule_sweep();
  });
}

void MediaServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::asio::post(io_, [this] {
    sweep_timer_.cancel();
    if (http_) http_->stop();
  });
  webhooks_.flush(std::chrono::seconds(2));
  io_.stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  echo_.reset();
}

void MediaServer::wait() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void MediaServer::on_room_started(const livekit::Room& room) {
  log_->info("room started room={} sid={}", room.name(), room.sid());
  livekit::WebhookEvent e;
  e.set_event("room_started");
  *e.mutable_room() = room;
  webhooks_.notify(std::move(e));
}

void MediaServer::on_room_finished(const livekit::Room& room) {
  log_->info("room finished room={} sid={}", room.name(), room.sid());
  livekit::WebhookEvent e;
  e.set_event("room_finished");
  *e.mutable_room() = room;
  webhooks_.notify(std::move(e));
}

}  // namespace parlor::service
