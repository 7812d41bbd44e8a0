#include "sfu/worker.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <bit>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <string_view>

#include "common/boundary.hpp"
#include "rtc/ice/ice_lite_agent.hpp"

namespace parlor::sfu {

namespace {
constexpr auto kTimerInterval = std::chrono::milliseconds(10);
}

void ownership_violation(const char* what, unsigned worker_index) {
  std::fprintf(stderr,
               "ownership violation: %s belongs to media worker %u but was touched from another "
               "thread\n",
               what, worker_index);
  std::fflush(stderr);
  std::abort();
}

Worker::Worker(const std::string& bind_address, uint16_t udp_port, std::string advertised_ip,
               std::shared_ptr<spdlog::logger> log)
    : Worker(Options{.bind_address = bind_address, .udp_port = udp_port, .advertised_ip = std::move(advertised_ip)},
             std::move(log)) {}

Worker::Worker(Options options, std::shared_ptr<spdlog::logger> log)
    : index_(options.index),
      sctp_clock_(options.sctp_clock),
      advertised_ip_(std::move(options.advertised_ip)),
      log_(log ? std::move(log)
               : std::make_shared<spdlog::logger>(
                     "worker", std::make_shared<spdlog::sinks::stderr_color_sink_mt>())),
      certificate_(rtc::DtlsCertificate::generate()) {
  socket_ = std::make_unique<rtc::UdpSocket>(
      io_, options.bind_address, options.udp_port,
      [this](std::span<uint8_t> d, const rtc::UdpEndpoint& from) { dispatch_datagram(d, from); });
  if (options.tcp_port) {
    try {
      tcp_ = std::make_unique<rtc::StreamServer>(
          io_, options.bind_address, *options.tcp_port, rtc::StreamServer::Framing::kRfc4571,
          options.tcp_limits,
          rtc::StreamServer::Handlers{
              .receive = [this](std::span<uint8_t> d, const rtc::UdpEndpoint& from) { dispatch_datagram(d, from); },
              .read_done = [this] { flush(); },
              .closed = [this](const rtc::UdpEndpoint& peer) { by_address_.erase(peer); },
          });
    } catch (const std::exception& e) {
      tcp_error_ = e.what();
    }
  }
  if (options.turn) start_turn(options);
  last_timer_ = std::chrono::steady_clock::now();
  schedule_timer();
  thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(io_);
    // Last resort: a completion handler that is not guarded threw. asio lets run() go on.
    while (auto caught = guarded([this] { io_.run(); })) {
      note_caught("worker_thread");
      log_->error("worker thread: a handler threw: {}", caught->message);
    }
  });
}

Worker::~Worker() { stop(); }

// A listener that cannot bind is not fatal (the worker serves what it can, turn_error() says
// what it could not); relaying goes only to this worker's media address.
void Worker::start_turn(const Options& options) {
  auto turn = *options.turn;
  turn.server.media = rtc::UdpEndpoint::from(advertised_ip_, socket_->port());  // media_ports: the owner's
  turn_ = std::make_unique<rtc::TurnServer>(turn.server, static_cast<rtc::TurnServer::Sink&>(*this));
  auto on_client = [this](std::span<uint8_t> d, const rtc::UdpEndpoint& from) {
    if (auto caught = guarded([&] { turn_->on_client_packet(d, from, rtc::TurnServer::Clock::now()); })) {
      note_caught("turn");
    }
  };
  std::vector<std::string> errors;
  if (turn.udp_port) {
    try {
      turn_udp_ = std::make_unique<rtc::UdpSocket>(io_, options.bind_address, turn.udp_port, on_client);
      turn_udp_->set_batch_end([this] { socket_->flush(); });
      socket_->set_batch_end([this] { turn_udp_->flush(); });
    } catch (const std::exception& e) {
      errors.push_back(std::string("TURN/UDP: ") + e.what());
    }
  }
  if (turn.tls_port) {  // without a TLS context: plain TCP behind a TLS-terminating balancer
    try {
      turn_tls_ = std::make_unique<rtc::StreamServer>(
          io_, options.bind_address, turn.tls_port, rtc::StreamServer::Framing::kTurn, turn.tls_limits,
          rtc::StreamServer::Handlers{
              .receive =
                  [this, on_client](std::span<uint8_t> d, const rtc::UdpEndpoint& from) {
                    on_client(d, from);
                    if (turn_->has_allocation(from)) turn_tls_->mark_validated(from);
                  },
              .read_done = [this] { flush(); },
              .closed = [this](const rtc::UdpEndpoint& peer) { turn_->client_closed(peer); },
          },
          turn.tls);
    } catch (const std::exception& e) {
      errors.push_back(std::string("TURN/TLS: ") + e.what());
    }
  }
  for (const auto& e : errors) turn_error_ += (turn_error_.empty() ? "" : "; ") + e;
}

void Worker::send_to_client(std::span<const uint8_t> data, const rtc::UdpEndpoint& client) {
  if (client.via == rtc::Via::kTcp) {
    if (turn_tls_) turn_tls_->send(data, client);
  } else if (turn_udp_) {
    turn_udp_->send(data, client);
  }
}

// A packet a client relayed through its allocation: into the media path of the worker that
// listens on `media_port`, as if from the allocation's relayed address. Another worker's packet
// is copied and posted to it (TURN is the fallback path; the direct paths never cross workers).
void Worker::deliver_to_media(std::span<uint8_t> data, const rtc::UdpEndpoint& relay, uint16_t media_port) {
  if (media_port == socket_->port() || peers_.empty()) {
    dispatch_datagram(data, relay);
    return;
  }
  for (Worker* peer : peers_) {
    if (peer == this || peer->udp_port() != media_port) continue;
    if (peer->relayed_pending_.fetch_add(1, std::memory_order_relaxed) >= kMaxRelayedPending) {
      peer->relayed_pending_.fetch_sub(1, std::memory_order_relaxed);
      ++counters_.turn_relay_overflow;
      return;
    }
    peer->post([peer, copy = std::vector<uint8_t>(data.begin(), data.end()), relay]() mutable {
      peer->relayed_pending_.fetch_sub(1, std::memory_order_relaxed);
      peer->dispatch_datagram(copy, relay);
    });
    return;
  }
}

void Worker::relay_closed(const rtc::UdpEndpoint& relay) {
  by_address_.erase(relay);
  for (Worker* peer : peers_) {
    if (peer != this) peer->post([peer, relay] { peer->by_address_.erase(relay); });
  }
}

void Worker::set_peers(std::vector<Worker*> peers) {
  post([this, peers = std::move(peers)]() mutable { peers_ = std::move(peers); });
}

void Worker::stop() {
  stopped_.store(true, std::memory_order_relaxed);
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

// The worker's clock: DTLS handshake retransmissions and, on the worker that drives it,
// usrsctp's process-wide clock (usrsctp runs without threads of its own; see SctpAssociation).
void Worker::schedule_timer() {
  timer_.expires_after(kTimerInterval);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    auto now = std::chrono::steady_clock::now();
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_timer_).count();
    last_timer_ = now;
    // One failing transport must not stop the clock of the others (nor the timer itself).
    if (auto caught = guarded([&] {
          if (sctp_clock_) rtc::SctpAssociation::handle_timers(static_cast<uint32_t>(elapsed));
        })) {
      note_caught("worker_timer");
      log_->error("worker timer: sctp timers threw: {}", caught->message);
    }
    for (auto& entry : by_ufrag_) {
      rtc::WebRtcTransport* t = entry.second;
      if (auto caught = guarded([t] { t->on_timer(); })) {
        note_caught("worker_timer");
        log_->error("worker timer: transport ufrag={} threw: {}", entry.first, caught->message);
      }
    }
    if (tcp_) tcp_->sweep(now);
    if (turn_) turn_->sweep(now);
    if (turn_tls_) turn_tls_->sweep(now);
    flush();
    schedule_timer();
  });
}

void Worker::post(std::function<void()> fn) {
  boost::asio::post(io_, [this, fn = std::move(fn)] {
    if (auto caught = guarded(fn)) {
      note_caught("worker_task");
      log_->error("worker task threw: {}", caught->message);
    }
    flush();
  });
}

uint64_t Worker::note_caught(const std::string& boundary) {
  return ++counters_.caught[boundary];
}

// The media path does not throw (it counts and drops); this is the last resort that keeps one
// datagram from ending the process. Logged at powers of two so a flood cannot flood the log.
void Worker::dispatch_datagram(std::span<uint8_t> data, const rtc::UdpEndpoint& from) noexcept {
  try {
    on_datagram(data, from);
  } catch (...) {
    auto caught = describe_current_exception();
    uint64_t n = note_caught("datagram");
    if (std::has_single_bit(n))
      log_->error("datagram dispatch threw ({} so far): {}", n, caught.message);
  }
}

void Worker::add(rtc::WebRtcTransport& transport) {
  check_owner("a WebRTC transport (Worker::add)");
  by_ufrag_[transport.local_ice().ufrag] = &transport;
}

namespace {
void accumulate(WorkerCounters& into, const rtc::WebRtcTransport& t) {
  const auto& c = t.counters();
  const auto& ice = t.ice_counters();
  into.stun_bad_integrity += ice.bad_integrity;
  into.stun_unauthorized += ice.unknown_user;
  into.stun_malformed += ice.malformed;
  into.srtp_errors += c.srtp_errors;
  into.dtls_from_unvalidated += c.dtls_from_unvalidated;
  into.malformed_rtp += c.malformed_rtp;
  into.unknown_first_byte += c.unknown_first_byte;
}
}  // namespace

WorkerCounters Worker::counters() const {
  check_owner("the worker's counters");
  WorkerCounters total = counters_;
  for (const auto& [_, t] : by_ufrag_) accumulate(total, *t);
  total.transports = by_ufrag_.size();
  total.udp_received = socket_->received();
  total.udp_sent = socket_->sent();
  total.udp_send_errors = socket_->send_errors();
  total.udp_truncated = socket_->truncated();
  if (tcp_) {
    total.tcp = tcp_->counters();
    total.tcp_connections = tcp_->connections();
  }
  if (turn_) {
    total.turn = turn_->counters();
    total.turn_allocations = turn_->allocations();
  }
  if (turn_tls_) total.turn_tls_connections = turn_tls_->connections();
  return total;
}

void Worker::remove(rtc::WebRtcTransport& transport) {
  check_owner("a WebRTC transport (Worker::remove)");
  if (by_ufrag_.erase(transport.local_ice().ufrag)) accumulate(counters_, transport);
  std::erase_if(by_address_, [&](const auto& kv) { return kv.second == &transport; });
}

void Worker::rekey(rtc::WebRtcTransport& transport, const std::string& old_ufrag) {
  check_owner("a WebRTC transport (Worker::rekey)");
  auto it = by_ufrag_.find(old_ufrag);
  if (it != by_ufrag_.end() && it->second == &transport) by_ufrag_.erase(it);
  by_ufrag_[transport.local_ice().ufrag] = &transport;
}

void Worker::send_datagram(std::span<const uint8_t> data, const rtc::UdpEndpoint& to) {
  check_owner("a WebRTC transport (sending a datagram)");
  switch (to.via) {
    case rtc::Via::kUdp:
      socket_->send(data, to);
      break;
    case rtc::Via::kTcp:
      if (tcp_) tcp_->send(data, to);
      break;
    case rtc::Via::kTurn: {
      Worker& host = turn_worker();
      if (&host == this) {
        if (turn_) turn_->on_media_packet(data, to, rtc::TurnServer::Clock::now(), socket_->port());
        break;
      }
      // The relay is served by another worker: the packet goes there (copied; see deliver_to_media).
      host.post([&host, copy = std::vector<uint8_t>(data.begin(), data.end()), to, port = socket_->port()] {
        if (host.turn_) host.turn_->on_media_packet(copy, to, rtc::TurnServer::Clock::now(), port);
      });
      break;
    }
  }
}

void Worker::on_datagram(std::span<uint8_t> data, const rtc::UdpEndpoint& from) {
  auto now = rtc::IceLiteAgent::Clock::now();
  if (!data.empty() && data[0] < 4) {  // STUN (RFC 7983)
    auto it = by_ufrag_.find(rtc::stun_local_ufrag(data));
    if (it == by_ufrag_.end()) {
      ++counters_.unknown_ufrag;
      return;
    }
    rtc::WebRtcTransport* t = it->second;
    t->on_datagram(data, from, now);
    if (t->knows(from)) {
      by_address_[from] = t;
      if (from.via == rtc::Via::kTcp && tcp_) tcp_->mark_validated(from);
    }
    return;
  }
  auto it = by_address_.find(from);
  if (it == by_address_.end()) {
    ++counters_.unknown_source;
    return;
  }
  it->second->on_datagram(data, from, now);
}

}  // namespace parlor::sfu
