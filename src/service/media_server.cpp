#include "service/media_server.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/beast/http/write.hpp>

#include "common/boundary.hpp"
#include "common/errors.hpp"
#include "common/http/respond_once.hpp"
#include "common/version.hpp"
#include "service/turn_setup.hpp"
#include "service/twirp.hpp"

namespace parlor::service {

namespace {
constexpr auto kSweepInterval = std::chrono::seconds(1);
// How long an HTTP request waits for work posted to the media worker before it is answered
// without it (503 / Twirp `unavailable`; /metrics with the worker's last published counters).
constexpr auto kWorkerAnswerDeadline = std::chrono::seconds(5);
constexpr auto kMetricsDeadline = std::chrono::seconds(1);
constexpr unsigned kControlThreads = 2;  // HTTP + signaling; media runs on its own workers

// rtc.workers, or one per core when 0.
size_t worker_count_for(const config::RtcConfig& rtc) {
  if (rtc.workers != 0) return rtc.workers;
  return std::max(1u, std::thread::hardware_concurrency());
}
constexpr const char* kWsPerIpMetric = "parlor_limit_ws_connections_per_ip_total";
constexpr const char* kWsPerRoomMetric = "parlor_limit_ws_connections_per_room_total";
constexpr const char* kWsLimitHelp =
    "WebSocket upgrades refused by limit.max_ws_connections_per_ip / _per_room";
constexpr const char* kJoinMetadataMetric = "parlor_limit_join_metadata_total";
constexpr const char* kJoinMetadataHelp =
    "Joins refused by limit.max_metadata_size / max_attributes_*";
}  // namespace

MediaServer::MediaServer(config::MediaConfig config)
    : config_(std::move(config)),
      log_(std::make_shared<spdlog::logger>(
          "media", std::make_shared<spdlog::sinks::stderr_color_sink_mt>())),
      webhooks_(config_, metrics_),
      rooms_(config_, *this),
      join_auth_(config_, rooms_),
      room_service_(config_, rooms_),
      ws_limiter_(config_.limit.max_ws_connections_per_ip,
                  config_.limit.max_ws_connections_per_room),
      sweep_timer_(io_),
      egress_timer_(io_),
      rooms_gauge_(metrics_.gauge("parlor_rooms", "Rooms open on this node")),
      http_requests_(metrics_.counter("parlor_http_requests_total", "HTTP requests routed")) {
  log_->set_level(spdlog::level::from_str(config_.logging.level));
  egress_ = std::make_unique<EgressService>(config_, rooms_, webhooks_, *log_);
  add_routes();
  // Control-thread boundaries: a handler's exception is already a 4xx/5xx; log and count it.
  router_.set_caught_handler(
      [this](const char* boundary, const http::Request& req, const Caught& caught) {
        metrics_.caught(boundary)++;
        log_->error("{}: {} {} threw (answered with an error): {}", boundary, req.method, req.path,
                    caught.message);
      });
  room_service_.set_caught_handler([this](const std::string& path, const Caught& caught) {
    metrics_.caught("twirp")++;
    log_->error("twirp: {} threw (answered internal): {}", path, caught.message);
  });
  egress_->set_caught_handler([this](const std::string& where, const Caught& caught) {
    metrics_.caught("egress")++;
    log_->error("egress: {} threw: {}", where, caught.message);
  });
  webhooks_.set_caught_handler([this](const Caught& caught) {
    log_->error("webhook delivery threw (event dropped): {}", caught.message);
  });
}

MediaServer::~MediaServer() { stop(); }

void MediaServer::add_routes() {
  auto ok = [this](const http::Request&) {
    http_requests_++;
    return http::Response::text(200, "OK");
  };
  router_.add("GET", "/", ok);
  router_.add("GET", "/healthz", ok);

  // The validate endpoints answer like the upgrade would (spec §2.1: never a bare 404 on
  // /rtc/validate, or JS loops).
  auto validate = [this](const http::Request& req) {
    http_requests_++;
    auto d = join_auth_.authorize(req);
    if (d.status != 200) return http::Response::text(d.status, d.message);
    // The JS client asks here why an upgrade failed: answer what the upgrade would.
    if (auto refused = ws_limiter_.check(req.remote_address, d.room)) {
      return http::Response::text(refused->status, refused->message);
    }
    if (auto error = signal::check_join_claims(d.claims, config_.limit))
      return http::Response::text(400, *error);
    return http::Response::text(200, "success");
  };
  router_.add("GET", "/rtc/validate", validate);
  router_.add("GET", "/rtc/v1/validate", validate);
  router_.add_upgrade("/rtc/v1", [this](http::Request req, http::BeastRequest raw, http::UpgradeStream stream,
                                        boost::beast::flat_buffer) {
    handle_rtc_upgrade(std::move(req), std::move(raw), std::move(stream), true);
  });
  router_.add_upgrade("/rtc", [this](http::Request req, http::BeastRequest raw, http::UpgradeStream stream,
                                     boost::beast::flat_buffer) {
    handle_rtc_upgrade(std::move(req), std::move(raw), std::move(stream), false);
  });

  // No control thread waits on a worker: these routes post to them and answer from there, or
  // after a deadline without them.
  router_.add_async(
      "GET", "/metrics", false, [this](const http::Request& req, http::Respond respond) {
        http_requests_++;
        // Each worker's totals are read on its thread; a busy worker leaves the last ones published.
        auto last = [this] { return guarded_response([this] { return render_metrics(); }); };
        // Answered with the last published counters also when a stopping worker drops the task.
        http::RespondOnce answer(within(kMetricsDeadline, std::move(respond), last), last);
        run_async(req, answer, [&] {
          // The last worker to answer hands the set to a control thread.
          struct Gather {
            std::mutex mutex;
            std::vector<sfu::WorkerCounters> counters;
            size_t missing;
          };
          auto gather = std::make_shared<Gather>();
          gather->counters.resize(workers_.size());
          gather->missing = workers_.size();
          for (size_t i = 0; i < workers_.size(); ++i) {
            sfu::Worker* w = workers_[i].get();
            w->post([this, w, i, gather, answer] {
              auto counters = w->counters();
              std::lock_guard lock(gather->mutex);
              gather->counters[i] = std::move(counters);
              if (--gather->missing != 0) return;
              boost::asio::post(io_, [this, answer, all = std::move(gather->counters)] {
                answer(guarded_response([&] {
                  publish_worker_metrics(all);
                  return render_metrics();
                }));
              });
            });
          }
        });
      });

  // The camera check (issue 3): a browser loop-back through the media path.
  auto worker_busy = [] { return http::Response::text(503, "media worker busy"); };
  router_.add_async("POST", "/echo/offer", false,
                    [this, worker_busy](const http::Request& req, http::Respond respond) {
                      http_requests_++;
                      auto answer = within(kWorkerAnswerDeadline, std::move(respond), worker_busy);
                      run_async(req, answer, [&] { echo_->handle_offer(req, answer); });
                    });
  router_.add_async("GET", "/echo/stats", false,
                    [this, worker_busy](const http::Request& req, http::Respond respond) {
                      http_requests_++;
                      auto answer = within(kWorkerAnswerDeadline, std::move(respond), worker_busy);
                      run_async(req, answer, [&] { echo_->handle_stats(req, answer); });
                    });

  router_.add_async("*", "/twirp/livekit.RoomService/", true,
                    [this](const http::Request& req, http::Respond respond) {
                      http_requests_++;
                      auto answer = within(kWorkerAnswerDeadline, std::move(respond), [] {
                        return twirp_error_response("unavailable",
                                                    "the media worker did not answer in time");
                      });
                      run_async(req, answer, [&] { room_service_.handle(req, answer); });
                    });
  router_.add_async("*", "/twirp/livekit.Egress/", true,
                    [this](const http::Request& req, http::Respond respond) {
                      http_requests_++;
                      auto answer = within(kWorkerAnswerDeadline, std::move(respond), [] {
                        return twirp_error_response("unavailable",
                                                    "the media worker did not answer in time");
                      });
                      run_async(req, answer, [&] { egress_->handle(req, answer); });
                    });
  router_.add_prefix("*", "/twirp/", [this](const http::Request& req) {
    http_requests_++;
    return twirp_error_response("bad_route", "no such service: " + req.path);
  });
}

// The TLS context for the main port, from config.tls (nullptr when TLS is off). Throws
// parlor::BadInput when the files cannot be used.
static std::shared_ptr<http::TlsContext> make_tls_context(const config::TlsConfig& t) {
  if (!t.enabled()) return nullptr;
  http::TlsOptions o;
  o.cert_file = t.cert_file;
  o.key_file = t.key_file;
  o.hsts_max_age = t.hsts_max_age;
  o.reload_interval = std::chrono::milliseconds(t.reload_interval_ms);
  o.handshake_timeout = std::chrono::seconds(t.handshake_timeout_seconds);
  return std::make_shared<http::TlsContext>(std::move(o));
}

void MediaServer::start() {
  // First: bad certificate files refuse to start before anything else runs.
  tls_ = make_tls_context(config_.tls);
  const std::string& bind = config_.bind_addresses.front();
  ensure_turn_secret(config_);
  const size_t n = worker_count_for(config_.rtc);
  config::check_worker_ports(config_.rtc, static_cast<uint32_t>(n));  // one per core: known now
  workers_.resize(n);
  // Worker 0 last: it serves TURN, which must know every worker's media port.
  std::vector<uint16_t> media_ports(n, 0);
  for (size_t k = n; k-- > 0;) {
    sfu::Worker::Options o{
        .bind_address = bind,
        .udp_port = config_.rtc.udp_port == 0 ? uint16_t{0} : static_cast<uint16_t>(config_.rtc.udp_port + k),
        .advertised_ip = config_.rtc.node_ip.empty() ? bind : config_.rtc.node_ip,
    };
    if (config_.rtc.tcp_port != 0) o.tcp_port = static_cast<uint16_t>(config_.rtc.tcp_port + k);
    o.tcp_limits.max_connections = config_.limit.max_ice_tcp_connections;
    o.tcp_limits.send_buffer_bytes = config_.limit.ice_tcp_send_buffer_bytes;
    o.index = static_cast<unsigned>(k);
    o.sctp_clock = k == 0;  // usrsctp has one clock for the process
    if (k == 0) {
      o.turn = turn_options(config_);
      if (o.turn) o.turn->server.media_ports.assign(media_ports.begin() + 1, media_ports.end());
    }
    try {
      workers_[k] = std::make_unique<sfu::Worker>(std::move(o), log_);
    } catch (const std::exception& e) {
      workers_.clear();  // the ones already running stop; stop() finds none
      throw BadInput("media worker " + std::to_string(k) + ": " + e.what());
    }
    media_ports[k] = workers_[k]->udp_port();
  }
  std::vector<sfu::Worker*> all;
  for (auto& w : workers_) all.push_back(w.get());
  for (auto* w : all) {
    if (!w->tcp_error().empty()) log_->warn("worker {}: ICE-TCP is off: {}", w->index(), w->tcp_error());
    if (n > 1) w->set_peers(all);
  }
  if (!workers_[0]->turn_error().empty()) log_->warn("TURN: {}", workers_[0]->turn_error());
  echo_ = std::make_unique<EchoService>(*workers_[0], metrics_);
  live_ = std::make_unique<LiveRooms>(config_, rooms_, webhooks_, all);
  rooms_.set_directory(live_.get());
  egress_->set_live_rooms(live_.get());
  live_->set_track_published_hook(
      [this](const std::string& room, const std::string& identity, const std::string& track_sid) {
        egress_->on_track_published(room, identity, track_sid);
      });
  http::ServerOptions opts;
  opts.address = config_.bind_addresses.front();
  opts.port = config_.port;
  opts.body_limit = config_.limit.max_request_body_bytes;
  opts.timeout = std::chrono::seconds(config_.limit.http_timeout_seconds);
  opts.server_header = std::string(version::kProduct) + "/" + version::kParlor;
  opts.tls = tls_;
  opts.log = [this](bool failed, const std::string& message) {
    if (failed) {
      log_->warn("{}", message);
    } else {
      log_->info("{}", message);
    }
  };
  http_ = std::make_unique<http::Server>(io_, router_, opts);
  http_->start();
  schedule_sweep();
  schedule_egress_poll();
  for (unsigned i = 0; i < kControlThreads; ++i) {
    threads_.emplace_back([this] {
      // Last resort: a completion handler that is not guarded threw. asio lets run() go on.
      while (auto caught = guarded([this] { io_.run(); })) {
        metrics_.caught("control_thread")++;
        log_->error("control thread: a handler threw: {}", caught->message);
      }
    });
  }
  std::string udp, tcp;
  for (auto& w : workers_) {
    udp += (udp.empty() ? "" : ",") + std::to_string(w->udp_port());
    tcp += (tcp.empty() ? "" : ",") + std::to_string(w->tcp_port());
  }
  log_->info("listening {}={}:{} workers={} udp={} tcp={}", tls_ ? "https" : "http", opts.address,
             http_->port(), workers_.size(), udp, tcp);
}

namespace {
// A refused upgrade: a plain HTTP answer on the connection (through its TLS layer when it has
// one), then the socket closes.
void write_plain(http::UpgradeStream& stream, int status, const std::string& body) {
  namespace bhttp = boost::beast::http;
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res.set(bhttp::field::access_control_allow_origin, "*");
  res.keep_alive(false);
  res.body() = body;
  res.prepare_payload();
  boost::beast::error_code ec;
  if (auto* tls = std::get_if<std::unique_ptr<http::TlsStream>>(&stream)) {
    if (!*tls) return;
    (*tls)->next_layer().expires_after(std::chrono::seconds(5));
    bhttp::write(**tls, res, ec);
    (*tls)->next_layer().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    return;
  }
  auto& plain = std::get<boost::beast::tcp_stream>(stream);
  plain.expires_after(std::chrono::seconds(5));
  bhttp::write(plain, res, ec);
  plain.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
}
}  // namespace

// Spec §2.2: authorize before the 101; failures are plain HTTP statuses with a short text.
void MediaServer::handle_rtc_upgrade(http::Request req, http::BeastRequest raw, http::UpgradeStream stream,
                                     bool single_pc) {
  http_requests_++;
  auto d = join_auth_.authorize(req);
  if (d.status != 200) return write_plain(stream, d.status, d.message);
  // Before the 101: a slot among this address's and this room's open WebSockets. The lease
  // goes with the connection to the worker and is given back when its socket closes.
  auto grant = ws_limiter_.acquire(req.remote_address, d.room);
  if (grant.refusal) {
    metrics_.counter(grant.refusal->status == 429 ? kWsPerIpMetric : kWsPerRoomMetric,
                     kWsLimitHelp)++;
    return write_plain(stream, grant.refusal->status, grant.refusal->message);
  }
  livekit::JoinRequest join_request;
  if (single_pc) {
    try {
      if (!req.has_query("join_request")) throw BadInput("missing join_request");
      join_request = signal::decode_join_request(req.query_param("join_request"), config_.limit.max_ws_message_bytes);
    } catch (const BadInput& e) {
      return write_plain(stream, 400, e.what());
    }
  }
  livekit::Room room;
  try {
    if (auto existing = rooms_.find(d.room)) {
      room = *existing;
    } else {
      livekit::CreateRoomRequest create;
      create.set_name(d.room);
      room = rooms_.create(create);
    }
  } catch (const TwirpError& e) {
    return write_plain(stream, e.code() == "resource_exhausted" ? 503 : 400, e.what());
  }
  // A full room is refused on the worker, where its participants are (SignalServer::accept).
  auto params = signal::join_params(d.claims, req, single_pc ? &join_request : nullptr);
  params.resume = single_pc ? join_request.reconnect()
                            : (req.query_param("reconnect") == "1" || req.query_param("reconnect") == "true");
  if (auto error = signal::check_join_claims(params.claims, config_.limit)) {
    metrics_.counter(kJoinMetadataMetric, kJoinMetadataHelp)++;
    return write_plain(stream, 400, *error);
  }
  live_->accept(std::move(params), std::move(room), std::move(raw), std::move(stream), std::move(grant.lease));
}

namespace {
void add_counters(sfu::WorkerCounters& into, const sfu::WorkerCounters& c) {
  into.unknown_source += c.unknown_source;
  into.unknown_ufrag += c.unknown_ufrag;
  into.stun_bad_integrity += c.stun_bad_integrity;
  into.stun_unauthorized += c.stun_unauthorized;
  into.stun_malformed += c.stun_malformed;
  into.srtp_errors += c.srtp_errors;
  into.dtls_from_unvalidated += c.dtls_from_unvalidated;
  into.malformed_rtp += c.malformed_rtp;
  into.unknown_first_byte += c.unknown_first_byte;
  into.udp_received += c.udp_received;
  into.udp_sent += c.udp_sent;
  into.udp_send_errors += c.udp_send_errors;
  into.udp_truncated += c.udp_truncated;
  into.tcp.accepted += c.tcp.accepted;
  into.tcp.refused += c.tcp.refused;
  into.tcp.closed_unvalidated += c.tcp.closed_unvalidated;
  into.tcp.closed_idle += c.tcp.closed_idle;
  into.tcp.frames_received += c.tcp.frames_received;
  into.tcp.frames_sent += c.tcp.frames_sent;
  into.tcp.oversized += c.tcp.oversized;
  into.tcp.send_dropped += c.tcp.send_dropped;
  into.tcp_connections += c.tcp_connections;
  into.turn.allocations_created += c.turn.allocations_created;
  into.turn.auth_failures += c.turn.auth_failures;
  into.turn.forbidden_peers += c.turn.forbidden_peers;
  into.turn.quota_refusals += c.turn.quota_refusals;
  into.turn.malformed += c.turn.malformed;
  into.turn.to_media += c.turn.to_media;
  into.turn.to_client += c.turn.to_client;
  into.turn.dropped += c.turn.dropped;
  into.turn_allocations += c.turn_allocations;
  into.turn_tls_connections += c.turn_tls_connections;
  into.turn_relay_overflow += c.turn_relay_overflow;
  into.transports += c.transports;
  for (const auto& [boundary, n] : c.caught) into.caught[boundary] += n;
}
}  // namespace

std::vector<uint16_t> MediaServer::udp_ports() const {
  std::vector<uint16_t> out;
  for (const auto& w : workers_) out.push_back(w->udp_port());
  return out;
}

std::vector<uint16_t> MediaServer::tcp_ports() const {
  std::vector<uint16_t> out;
  for (const auto& w : workers_) out.push_back(w->tcp_port());
  return out;
}

// Copies the workers' totals (each read on its own thread, where they are counted lock-free)
// into the registry: node totals, and per worker what shows how the load spreads. Control thread.
void MediaServer::publish_worker_metrics(const std::vector<sfu::WorkerCounters>& per_worker) {
  sfu::WorkerCounters counters;
  for (const auto& c : per_worker) add_counters(counters, c);
  const auto placed = live_ ? live_->placed_rooms() : std::vector<uint32_t>{};
  for (size_t i = 0; i < per_worker.size(); ++i) {
    const std::string label = "{worker=\"" + std::to_string(i) + "\"}";
    metrics_.gauge("parlor_worker_rooms" + label, "Rooms placed on each media worker") =
        i < placed.size() ? placed[i] : 0;
    metrics_.gauge("parlor_worker_transports" + label, "WebRTC transports on each media worker") =
        static_cast<int64_t>(per_worker[i].transports);
    metrics_.counter("parlor_worker_udp_received_total" + label, "UDP datagrams received by each media worker") =
        per_worker[i].udp_received;
    metrics_.counter("parlor_worker_udp_sent_total" + label, "UDP datagrams sent by each media worker") =
        per_worker[i].udp_sent;
  }
  metrics_.gauge("parlor_workers", "Media workers (rtc.workers)") = static_cast<int64_t>(per_worker.size());
  const auto* c = &counters;
  auto set = [this](const char* name, const char* help, uint64_t v) { metrics_.counter(name, help) = v; };
  set("parlor_udp_unknown_source_total", "Datagrams from addresses no ICE check validated", c->unknown_source);
  set("parlor_udp_unknown_ufrag_total", "STUN messages for an ICE ufrag this node never issued", c->unknown_ufrag);
  set("parlor_stun_bad_integrity_total", "STUN checks with a wrong MESSAGE-INTEGRITY", c->stun_bad_integrity);
  set("parlor_stun_unauthorized_total", "STUN checks whose USERNAME is not this transport's", c->stun_unauthorized);
  set("parlor_stun_malformed_total", "Malformed STUN messages", c->stun_malformed);
  set("parlor_srtp_errors_total", "SRTP/SRTCP packets that failed authentication or replay checks", c->srtp_errors);
  set("parlor_dtls_from_unvalidated_total", "DTLS records from addresses ICE had not validated", c->dtls_from_unvalidated);
  set("parlor_rtp_malformed_total", "Decrypted RTP packets that failed to parse", c->malformed_rtp);
  set("parlor_udp_unknown_first_byte_total", "Datagrams matching no protocol (RFC 7983)", c->unknown_first_byte);
  set("parlor_udp_received_total", "UDP datagrams received", c->udp_received);
  set("parlor_udp_sent_total", "UDP datagrams sent", c->udp_sent);
  set("parlor_udp_send_errors_total", "UDP datagrams the kernel refused", c->udp_send_errors);
  set("parlor_udp_truncated_total", "UDP datagrams larger than the receive buffer (dropped)", c->udp_truncated);
  set("parlor_ice_tcp_accepted_total", "ICE-TCP connections accepted", c->tcp.accepted);
  set("parlor_ice_tcp_refused_total", "ICE-TCP connections refused by limit.max_ice_tcp_connections", c->tcp.refused);
  set("parlor_ice_tcp_closed_unvalidated_total", "ICE-TCP connections closed because no ICE check passed in time",
      c->tcp.closed_unvalidated);
  set("parlor_ice_tcp_closed_idle_total", "ICE-TCP connections closed after silence", c->tcp.closed_idle);
  set("parlor_ice_tcp_frames_received_total", "RFC 4571 frames received over ICE-TCP", c->tcp.frames_received);
  set("parlor_ice_tcp_frames_sent_total", "RFC 4571 frames queued for ICE-TCP clients", c->tcp.frames_sent);
  set("parlor_ice_tcp_oversized_total", "ICE-TCP frames longer than a datagram (skipped)", c->tcp.oversized);
  set("parlor_ice_tcp_send_dropped_total",
      "Packets dropped because an ICE-TCP client's queue was full (limit.ice_tcp_send_buffer_bytes)",
      c->tcp.send_dropped);
  metrics_.gauge("parlor_ice_tcp_connections", "Open ICE-TCP connections") = static_cast<int64_t>(c->tcp_connections);
  set("parlor_turn_allocations_created_total", "TURN allocations created", c->turn.allocations_created);
  set("parlor_turn_auth_failures_total", "TURN requests with wrong or expired credentials", c->turn.auth_failures);
  set("parlor_turn_forbidden_peers_total",
      "TURN permissions, channels or sends refused: the peer was not this node's media address", c->turn.forbidden_peers);
  set("parlor_turn_quota_refusals_total", "TURN allocations refused by turn.max_allocations", c->turn.quota_refusals);
  set("parlor_turn_malformed_total", "Malformed TURN messages", c->turn.malformed);
  set("parlor_turn_relayed_to_media_total", "Packets relayed from TURN clients to the media path", c->turn.to_media);
  set("parlor_turn_relayed_to_client_total", "Packets relayed from the media path to TURN clients", c->turn.to_client);
  set("parlor_turn_dropped_total", "Relayed packets without an allocation, permission or channel", c->turn.dropped);
  set("parlor_turn_relay_overflow_total",
      "Relayed packets for another media worker dropped because that worker had too many waiting",
      c->turn_relay_overflow);
  metrics_.gauge("parlor_turn_allocations", "Live TURN allocations") = static_cast<int64_t>(c->turn_allocations);
  metrics_.gauge("parlor_turn_tls_connections", "Open TURN/TLS connections") = static_cast<int64_t>(c->turn_tls_connections);
  metrics_.gauge("parlor_transports", "WebRTC transports on the media workers") = static_cast<int64_t>(c->transports);
  for (const auto& [boundary, n] : c->caught) metrics_.caught(boundary) = n;
}

// Refusals by the per-participant limits (counted on the worker) and the open WebSockets.
void MediaServer::publish_limit_metrics() {
  metrics_.gauge("parlor_ws_connections", "Open signaling WebSockets") =
      static_cast<int64_t>(ws_limiter_.open_total());
  metrics_.counter(kWsPerIpMetric,
                   kWsLimitHelp);  // registered, so they show as 0 before any refusal
  metrics_.counter(kWsPerRoomMetric, kWsLimitHelp);
  metrics_.counter(kJoinMetadataMetric, kJoinMetadataHelp);
  if (!live_) return;
  // Each worker's signal server counts its own (no counter is shared between workers).
  using Counters = signal::LimitCounters;
  auto total = [this](auto field) {
    int64_t t = 0;
    for (size_t i = 0; i < live_->worker_count(); ++i) {
      t += static_cast<int64_t>(field(live_->signal(i).limit_counters()).load(std::memory_order_relaxed));
    }
    return t;
  };
  auto set = [this, &total](const char* name, const char* help, auto field) {
    metrics_.counter(name, help) = static_cast<uint64_t>(total(field));
  };
  set("parlor_limit_num_tracks_total", "AddTrackRequests refused by limit.num_tracks", [](const Counters& c) -> auto& { return c.tracks; });
  set("parlor_limit_track_request_total",
      "AddTrackRequests refused by limit.max_track_name_length / max_track_layers / "
      "max_track_codecs",
      [](const Counters& c) -> auto& { return c.track_request; });
  set("parlor_limit_metadata_total",
      "Metadata updates refused by limit.max_metadata_size / max_attributes_size / "
      "max_attributes_count",
      [](const Counters& c) -> auto& { return c.metadata; });
  set("parlor_limit_subscriptions_total",
      "Subscriptions refused by limit.subscription_limit_video / _audio", [](const Counters& c) -> auto& { return c.subscriptions; });
  set("parlor_limit_track_permissions_total",
      "Subscription permission requests refused by limit.max_track_permissions", [](const Counters& c) -> auto& { return c.track_permissions; });
  set("parlor_limit_signal_dropped_total",
      "Signal messages dropped by limit.signal_messages_per_second", [](const Counters& c) -> auto& { return c.signal_dropped; });
  set("parlor_limit_signal_disconnects_total",
      "Participants disconnected for flooding signal messages", [](const Counters& c) -> auto& { return c.signal_disconnects; });
  set("parlor_limit_data_dropped_total",
      "Data packets dropped by limit.data_packets_per_second / data_bytes_per_second / "
      "max_data_packet_bytes",
      [](const Counters& c) -> auto& { return c.data_dropped; });
  set("parlor_limit_ws_send_queue_total",
      "Signaling connections closed by limit.ws_send_queue_bytes", [](const Counters& c) -> auto& { return c.ws_send_overflow; });
  // Downstream congestion control: a summary across subscribers (the mean estimate of the
  // constrained ones is estimate_sum / congested).
  metrics_.gauge("parlor_bwe_subscribers", "Participants whose downlink is estimated from transport-cc feedback") =
      total([](const Counters& c) -> auto& { return c.congestion.subscribers; });
  metrics_.gauge("parlor_bwe_congested_subscribers",
                 "Participants whose downlink saw congestion (their layers are fitted to the estimate)") =
      total([](const Counters& c) -> auto& { return c.congestion.congested; });
  metrics_.gauge("parlor_bwe_estimate_bps_sum", "Sum of the congested subscribers' downlink estimates (bit/s)") =
      total([](const Counters& c) -> auto& { return c.congestion.estimate_sum_bps; });
  set("parlor_bwe_feedbacks_total", "Transport-cc feedbacks received from subscribers", [](const Counters& c) -> auto& { return c.congestion.feedbacks; });
  set("parlor_bwe_pauses_total", "Subscribed video tracks paused because the downlink could not carry them", [](const Counters& c) -> auto& { return c.congestion.pauses; });
  set("parlor_bwe_resumes_total", "Subscribed video tracks resumed after a congestion pause", [](const Counters& c) -> auto& { return c.congestion.resumes; });
  set("parlor_bwe_probes_total", "Bandwidth probes (padding clusters) sent to subscribers held below their layer",
      [](const Counters& c) -> auto& { return c.congestion.probes; });
  set("parlor_bwe_probes_succeeded_total", "Bandwidth probes that showed the downlink carries the next layer",
      [](const Counters& c) -> auto& { return c.congestion.probes_succeeded; });
  set("parlor_bwe_probe_padding_packets_total", "Padding packets sent in bandwidth probes",
      [](const Counters& c) -> auto& { return c.congestion.probe_padding_packets; });
}

std::string MediaServer::render_metrics() {
  rooms_gauge_ = static_cast<int64_t>(rooms_.list({}).size());
  publish_limit_metrics();
  if (tls_) {
    metrics_.counter("parlor_tls_handshake_failures_total",
                     "TLS handshakes that failed or timed out (plain HTTP, garbage, slow clients)") =
        tls_->handshake_failures();
    metrics_.counter("parlor_tls_reloads_total", "Certificate reloads after the files changed") =
        tls_->reloads();
    metrics_.counter("parlor_tls_reload_failures_total",
                     "Changed certificate files that did not load (the previous one stays)") =
        tls_->reload_failures();
  }
  return metrics_.render();
}

http::Response MediaServer::guarded_response(const std::function<std::string()>& render) {
  http::Response r;
  if (auto caught = guarded([&] { r.body = render(); })) {
    metrics_.caught("http")++;
    log_->error("http: /metrics threw: {}", caught->message);
    return http::Response::text(500, "internal error");
  }
  r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4");
  return r;
}

// The answer is given once: by whoever calls the returned Respond first, or by `late()` when
// `deadline` passes first (then the late work's answer is dropped). The timer runs on the
// control io_context and is cancelled there once answered.
http::Respond MediaServer::within(std::chrono::milliseconds deadline, http::Respond respond,
                                  std::function<http::Response()> late) {
  struct State {
    std::atomic<bool> answered{false};
    http::Respond respond;
    boost::asio::steady_timer timer;
    State(http::Respond r, boost::asio::io_context& io) : respond(std::move(r)), timer(io) {}
  };
  auto state = std::make_shared<State>(std::move(respond), io_);
  state->timer.expires_after(deadline);
  state->timer.async_wait(
      [weak = std::weak_ptr<State>(state), late = std::move(late)](boost::system::error_code ec) {
        auto s = weak.lock();
        if (ec || !s || s->answered.exchange(true)) return;
        guarded([&] { s->respond(late()); });
      });
  return [state, io = &io_](http::Response res) {
    if (state->answered.exchange(true)) return;
    state->respond(std::move(res));
    boost::asio::post(*io, [state] { state->timer.cancel(); });
  };
}

// An asynchronous route's boundary: what `start` throws before it handed the request on is
// answered (once; a later answer is dropped) and counted like any handler's.
void MediaServer::run_async(const http::Request& req, const http::Respond& answer,
                            const std::function<void()>& start) {
  if (auto caught = guarded(start)) {
    metrics_.caught("http")++;
    log_->error("http: {} {} threw (answered with an error): {}", req.method, req.path,
                caught->message);
    answer(http::Response::text(caught->bad_input ? 400 : 500,
                                caught->bad_input ? caught->message : "internal error"));
  }
}

void MediaServer::schedule_sweep() {
  sweep_timer_.expires_after(kSweepInterval);
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    if (auto caught = guarded([this] {
          rooms_.sweep();  // participants' liveness is checked on each room's own tick
        })) {
      metrics_.caught("control_timer")++;
      log_->error("room sweep threw: {}", caught->message);
    }
    schedule_sweep();
  });
}

// ACTIVE at a recording's first frame, FAILED when a recorder fails (disk full, unwritable).
void MediaServer::schedule_egress_poll() {
  constexpr auto kEgressPollInterval = std::chrono::milliseconds(250);
  egress_timer_.expires_after(kEgressPollInterval);
  egress_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    if (auto caught = guarded([this] { egress_->poll(); })) {
      metrics_.caught("control_timer")++;
      log_->error("egress poll threw: {}", caught->message);
    }
    schedule_egress_poll();
  });
}

void MediaServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::asio::post(io_, [this] {
    sweep_timer_.cancel();
    egress_timer_.cancel();
    if (http_) http_->stop();
  });
  // Recordings end while the worker still runs (their taps leave on it); their last webhooks
  // are then flushed with the rest.
  egress_->stop();
  egress_->set_live_rooms(nullptr);
  webhooks_.flush(std::chrono::seconds(2));
  io_.stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  rooms_.set_directory(nullptr);
  // What is pinned to a worker is torn down on its thread (usrsctp and the ownership checks
  // require it); then the workers stop.
  for (size_t i = 0; i < workers_.size(); ++i) {
    try {
      workers_[i]->call<bool>([this, i] {
        if (live_) live_->drop_worker(i);
        if (i == 0) echo_.reset();
        return true;
      });
    } catch (const std::exception&) {
    }
  }
  for (auto& w : workers_) w->stop();
  live_.reset();
  echo_.reset();
  workers_.clear();
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
  egress_->on_room_finished(room.name());
  livekit::WebhookEvent e;
  e.set_event("room_finished");
  *e.mutable_room() = room;
  webhooks_.notify(std::move(e));
}

}  // namespace parlor::service
