#pragma once
// A media worker: one thread running one io_context, one UDP socket on `rtc.udp_port` (and an
// ICE-TCP listener on `rtc.tcp_port`, whose frames take the same path as datagrams), one DTLS
// certificate, and every WebRTC transport pinned to it. Datagrams are demultiplexed first by the
// local ICE ufrag of STUN checks, then by the remote addresses those checks validated (RFC 7983
// first-byte rules decide which). Rooms and camera checks live on a worker; cross-thread work is
// posted to it, never called into it.
//
// Several workers run side by side (`rtc.workers`, docs/performance.md "Workers"): each has its
// own thread, io_context, UDP socket (rtc.udp_port + index) and ICE-TCP listener, and shares no
// state with the others. TURN is served by one of them (MediaServer gives it to worker 0) and
// reaches every worker's media address through the peers list (set_peers).
//
// Threading: post()/call() are safe from any thread; everything else runs on the worker thread.
// Objects pinned to a worker check it (check_owner) in debug and sanitizer builds and abort with
// a clear message when touched from another thread.
// Lifetime: registered transports must be removed before they are destroyed.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/config/media_config.hpp"
#include "rtc/dtls/dtls_transport.hpp"
#include "rtc/net/stream_server.hpp"
#include "rtc/turn/turn_server.hpp"
#include "rtc/net/udp_socket.hpp"
#include "rtc/transport/webrtc_transport.hpp"

namespace spdlog {
class logger;
}

namespace parlor::sfu {

// Totals over the worker's socket and every transport it has carried (live and gone).
struct WorkerCounters {
  uint64_t unknown_source = 0;  // datagrams from addresses no ICE check validated
  uint64_t unknown_ufrag = 0;   // STUN for a ufrag we never issued
  uint64_t stun_bad_integrity = 0;
  uint64_t stun_unauthorized = 0;  // USERNAME not ours
  uint64_t stun_malformed = 0;
  uint64_t srtp_errors = 0;
  uint64_t dtls_from_unvalidated = 0;
  uint64_t malformed_rtp = 0;
  uint64_t unknown_first_byte = 0;
  uint64_t udp_received = 0, udp_sent = 0, udp_send_errors = 0, udp_truncated = 0;
  rtc::StreamServer::Counters tcp;  // ICE-TCP (all zero without a TCP listener)
  uint64_t tcp_connections = 0;     // open ICE-TCP connections
  rtc::TurnServer::Counters turn;   // TURN (all zero when TURN is off)
  uint64_t turn_allocations = 0;
  uint64_t turn_tls_connections = 0;
  // Relayed packets for another worker's room dropped because that worker already had
  // kMaxRelayedPending of them waiting (a flood through TURN cannot grow its task queue).
  uint64_t turn_relay_overflow = 0;
  uint64_t transports = 0;  // live
  // Exceptions caught at this thread's boundaries (tasks, timers, datagram dispatch, signaling
  // callbacks), by boundary name.
  std::map<std::string, uint64_t> caught;
};

using EndpointHash = rtc::UdpEndpointHash;

// Ownership checks: on in debug builds and in sanitizer builds (GCC and clang define
// __SANITIZE_ADDRESS__ under -fsanitize=address), off in release builds.
#if !defined(NDEBUG) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kOwnershipChecks = true;
#else
inline constexpr bool kOwnershipChecks = false;
#endif

// Prints "ownership violation: <what> belongs to media worker <index> but was touched from
// another thread" and aborts.
[[noreturn]] void ownership_violation(const char* what, unsigned worker_index);

// Lets the ufrag table be searched with the string_view taken from a STUN message (no copy).
struct UfragHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class Worker : public rtc::DatagramSender, private rtc::TurnServer::Sink {
 public:
  // TURN served on this worker (relaying only to its own media address).
  struct TurnOptions {
    uint16_t udp_port = 0;                // 0 = no TURN/UDP listener
    uint16_t tls_port = 0;                // 0 = no TURN/TLS listener
    std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain TCP on tls_port (external TLS)
    rtc::TurnServer::Options server;      // realm, secret, limits (media address filled in here)
    rtc::StreamServer::Limits tls_limits;
  };
  struct Options {
    std::string bind_address = "127.0.0.1";
    uint16_t udp_port = 0;  // 0 = ephemeral
    // ICE-TCP: listen here too (0 = no TCP listener). A port that cannot be bound is not fatal:
    // the worker runs UDP-only and tcp_error() says why.
    std::optional<uint16_t> tcp_port;
    rtc::StreamServer::Limits tcp_limits;
    std::string advertised_ip = "127.0.0.1";
    std::optional<TurnOptions> turn;
    unsigned index = 0;  // this worker's number (logs, metrics, ownership messages)
    // Drives usrsctp's process-wide clock (SctpAssociation::handle_timers). Exactly one worker
    // of a process should (MediaServer: worker 0); a standalone worker does.
    bool sctp_clock = true;
  };
  // `log` is the log of everything on this worker; nullptr logs to stderr.
  explicit Worker(Options options, std::shared_ptr<spdlog::logger> log = nullptr);
  Worker(const std::string& bind_address, uint16_t udp_port, std::string advertised_ip,
         std::shared_ptr<spdlog::logger> log = nullptr);
  ~Worker() override;
  // Stops and joins the thread; afterwards the owner may tear down what was pinned here from
  // its own thread.
  void stop();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs fn on the worker thread; queued datagrams are flushed after it. What fn throws is
  // logged and counted (boundary "worker_task"); the worker goes on.
  void post(std::function<void()> fn);
  // Runs fn on the worker thread and waits for its result; nullopt when the worker did not
  // answer within the timeout (stopped or overloaded). Blocks the caller: for shutdown and
  // tests only, never on a request path (post and answer from the worker instead).
  template <typename T>
  std::optional<T> call(std::function<T()> fn, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto promise = std::make_shared<std::promise<T>>();
    auto fut = promise->get_future();
    post([promise, fn = std::move(fn)] {
      try {
        promise->set_value(fn());
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    });
    if (fut.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return fut.get();  // rethrows what fn threw
  }
  bool on_worker_thread() const { return std::this_thread::get_id() == thread_.get_id(); }
  // Aborts (debug and sanitizer builds) unless called on this worker's thread, or after the
  // worker stopped (the owner then tears down what was pinned here from its own thread).
  void check_owner(const char* what) const {
    if constexpr (kOwnershipChecks) {
      if (!on_worker_thread() && thread_.joinable() && !stopped_.load(std::memory_order_relaxed))
        ownership_violation(what, index_);
    }
  }
  unsigned index() const { return index_; }
  // The node's workers, this one included, indexed by Worker::index(); set once by the owner
  // before any participant joins (any thread; applied on the worker thread). A TURN relay
  // served here reaches each worker's media address: packets for another worker are copied and
  // posted to it (and the answers posted back to this one). Empty = this worker alone.
  void set_peers(std::vector<Worker*> peers);
  // Worker thread: the worker whose TURN server carries this worker's relayed traffic (this one
  // when alone); its turn_*_port() are what this worker's participants are told.
  Worker& turn_worker() { return peers_.empty() ? *this : *peers_.front(); }
  spdlog::logger& log() const { return *log_; }
  // Worker thread only: an exception was caught at `boundary` (a short name, e.g. "ws_message");
  // counted for /metrics. Returns the new count (callers rate-limit their logs with it).
  uint64_t note_caught(const std::string& boundary);

  // Worker thread only.
  void add(rtc::WebRtcTransport& transport);
  void remove(rtc::WebRtcTransport& transport);
  // The transport's local ufrag changed (ICE restart): route the new one to it.
  void rekey(rtc::WebRtcTransport& transport, const std::string& old_ufrag);
  void send_datagram(std::span<const uint8_t> data, const rtc::UdpEndpoint& to) override;
  void run_on_owner(std::function<void()> fn) override { post(std::move(fn)); }
  // Sends what is queued on the media socket and the TURN/UDP socket.
  void flush() {
    socket_->flush();
    if (turn_udp_) turn_udp_->flush();
  }

  boost::asio::io_context& io() { return io_; }
  const rtc::DtlsCertificate& certificate() const { return *certificate_; }
  uint16_t udp_port() const { return socket_->port(); }
  // The ICE-TCP port announced as a passive host candidate (0 = no ICE-TCP).
  uint16_t tcp_port() const { return tcp_ ? tcp_->port() : 0; }
  // Why the configured ICE-TCP port is not served (empty when it is, or none was configured).
  const std::string& tcp_error() const { return tcp_error_; }
  // TURN listeners actually served (0 = not served) and why one is not.
  uint16_t turn_udp_port() const { return turn_udp_ ? turn_udp_->port() : 0; }
  uint16_t turn_tls_port() const { return turn_tls_ ? turn_tls_->port() : 0; }
  const std::string& turn_error() const { return turn_error_; }
  const std::string& advertised_ip() const { return advertised_ip_; }
  // Worker thread only (use call() from elsewhere).
  WorkerCounters counters() const;
  const rtc::UdpSocket& socket() const { return *socket_; }

 private:
  void start_turn(const Options& options);
  // rtc::TurnServer::Sink
  void send_to_client(std::span<const uint8_t> data, const rtc::UdpEndpoint& client) override;
  void deliver_to_media(std::span<uint8_t> data, const rtc::UdpEndpoint& relay, uint16_t media_port) override;
  void relay_closed(const rtc::UdpEndpoint& relay) override;

  void on_datagram(std::span<uint8_t> data, const rtc::UdpEndpoint& from);
  void dispatch_datagram(std::span<uint8_t> data, const rtc::UdpEndpoint& from) noexcept;
  void schedule_timer();

  unsigned index_ = 0;
  bool sctp_clock_ = true;
  std::vector<Worker*> peers_;
  std::atomic<bool> stopped_{false};
  // TURN packets posted to this worker by the TURN worker and not yet dispatched (bounded).
  static constexpr uint32_t kMaxRelayedPending = 1024;
  std::atomic<uint32_t> relayed_pending_{0};
  std::string advertised_ip_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<rtc::DtlsCertificate> certificate_;
  boost::asio::io_context io_;
  std::unique_ptr<rtc::UdpSocket> socket_;
  std::unique_ptr<rtc::StreamServer> tcp_;
  std::string tcp_error_;
  std::unique_ptr<rtc::TurnServer> turn_;
  std::unique_ptr<rtc::UdpSocket> turn_udp_;
  std::unique_ptr<rtc::StreamServer> turn_tls_;
  std::string turn_error_;
  std::unordered_map<std::string, rtc::WebRtcTransport*, UfragHash, std::equal_to<>> by_ufrag_;
  std::unordered_map<rtc::UdpEndpoint, rtc::WebRtcTransport*, EndpointHash> by_address_;
  WorkerCounters counters_;  // socket-level, plus transports already removed
  boost::asio::steady_timer timer_{io_};
  std::chrono::steady_clock::time_point last_timer_{};
  std::thread thread_;
};

}  // namespace parlor::sfu
