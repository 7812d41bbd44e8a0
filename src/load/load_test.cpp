#include "load/load_test.hpp"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <future>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>
#include <thread>

#include "common/auth/access_token.hpp"
#include "common/errors.hpp"
#include "load/janus_client.hpp"
#include "rtc/dtls/dtls_transport.hpp"

namespace parlor::load {

namespace {
using Clock = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::milliseconds(5);
constexpr auto kDrain = std::chrono::seconds(1);
constexpr auto kLeaveGrace = std::chrono::milliseconds(300);

struct ParsedUrl {
  std::string host, port;
};

ParsedUrl parse_url(const std::string& url) {
  std::string rest;
  if (url.rfind("ws://", 0) == 0) {
    rest = url.substr(5);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    throw BadInput("--url must be ws://host:port (TLS is not supported by the generator): " + url);
  }
  rest = rest.substr(0, rest.find('/'));
  auto colon = rest.rfind(':');
  if (colon == std::string::npos) return {rest, "80"};
  return {rest.substr(0, colon), rest.substr(colon + 1)};
}

// One generator thread: its io_context, its peers, a tick timer.
struct Generator {
  boost::asio::io_context io;
  LiveCounters live;
  std::unique_ptr<GeneratorContext> ctx;
  std::vector<std::unique_ptr<LoadPeer>> peers;
  std::vector<Clock::time_point> start_at;
  size_t started = 0;  // peers[0, started) run (started here, or externally in order)
  std::unique_ptr<boost::asio::steady_timer> timer;
  std::thread thread;

  void schedule() {
    timer->expires_after(kTick);
    timer->async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      auto now = Clock::now();
      while (started < peers.size() && now >= start_at[started]) peers[started++]->start();
      for (size_t i = 0; i < started; ++i) peers[i]->tick(now);
      schedule();
    });
  }
};

// Runs fn on the generator's thread and waits for its result.
template <typename Fn>
auto run_on(Generator& g, Fn fn) -> decltype(fn()) {
  std::promise<decltype(fn())> done;
  boost::asio::post(g.io, [&] {
    try {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        done.set_value();
      } else {
        done.set_value(fn());
      }
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  return done.get_future().get();
}

struct PeerRef {
  Generator* gen;
  LoadPeer* peer;
  LoadPeer::Role role;
  int room;
  std::string identity;
};

constexpr auto kJanusEventTimeout = std::chrono::seconds(15);
constexpr auto kJanusKeepalive = std::chrono::seconds(10);

// Joins every peer through Janus's VideoRoom (publishers first, then subscribers to every
// publisher of their room). A peer that fails is marked failed; the run goes on.
// Rooms are numbered from `room_base` (random per run: Janus keeps rooms after their session).
void join_janus(JanusClient& janus, const LoadOptions& o, std::vector<PeerRef>& refs,
                uint64_t room_base) {
  janus.create_session();
  std::map<int, std::vector<uint64_t>> feeds;  // room → publisher ids
  auto admin = janus.attach("janus.plugin.videoroom");
  for (int r = 0; r < o.rooms; ++r) {
    janus.message(admin, {{"request", "create"},
                          {"room", room_base + r},
                          {"publishers", std::max(1, o.publishers)},
                          {"audiocodec", "opus"},
                          {"videocodec", "vp8"},
                          {"bitrate", 0},
                          {"transport_wide_cc_ext", true},
                          {"notify_joining", false}});
  }
  std::vector<std::pair<uint64_t, PeerRef*>> publisher_handles;
  bool publishers_up = false;
  for (auto& ref : refs) {
    Generator& g = *ref.gen;
    LoadPeer* peer = ref.peer;
    try {
      if (ref.role == LoadPeer::Role::kSubscriber && !publishers_up) {
        // Janus lets subscribers join a feed only once its PeerConnection is up.
        publishers_up = true;
        for (auto& [h, pub] : publisher_handles) {
          try {
            janus.wait_event(
                h, [](const nlohmann::json& e) { return e.value("janus", "") == "webrtcup"; },
                kJanusEventTimeout);
          } catch (const std::exception& e) {
            std::string why = std::string("Janus: ") + e.what();
            run_on(*pub->gen, [&] { pub->peer->external_failed(why); });
          }
        }
      }
      if (ref.role == LoadPeer::Role::kPublisher) {
        std::string offer = run_on(g, [&] {
          peer->start_external();
          ++g.started;
          return peer->external_offer();
        });
        auto h = janus.attach("janus.plugin.videoroom");
        janus.message(h,
                      {{"request", "joinandconfigure"},
                       {"room", room_base + ref.room},
                       {"ptype", "publisher"},
                       {"display", ref.identity},
                       {"audio", true},
                       {"video", !o.media.audio_only}},
                      {{"type", "offer"}, {"sdp", offer}});
        auto e = janus.wait_event(
            h, [](const nlohmann::json& e) { return e.contains("jsep"); }, kJanusEventTimeout);
        feeds[ref.room].push_back(e["plugindata"]["data"]["id"].get<uint64_t>());
        publisher_handles.push_back({h, &ref});
        std::string answer = e["jsep"]["sdp"].get<std::string>();
        std::string candidate = run_on(g, [&] {
          peer->external_joined();
          peer->external_answer(answer);
          return peer->external_candidate();
        });
        janus.trickle(h, candidate);
      } else {
        run_on(g, [&] {
          peer->start_external();
          ++g.started;
        });
        auto h = janus.attach("janus.plugin.videoroom");
        nlohmann::json streams = nlohmann::json::array();
        for (auto id : feeds[ref.room]) streams.push_back({{"feed", id}});
        janus.message(h, {{"request", "join"},
                          {"room", room_base + ref.room},
                          {"ptype", "subscriber"},
                          {"streams", streams}});
        auto e = janus.wait_event(
            h, [](const nlohmann::json& e) { return e.contains("jsep"); }, kJanusEventTimeout);
        std::string offer = e["jsep"]["sdp"].get<std::string>();
        std::string candidate;
        std::string answer = run_on(g, [&] {
          peer->external_joined();
          auto a = peer->external_offer_answered(offer);
          candidate = peer->external_candidate();
          return a;
        });
        janus.message(h, {{"request", "start"}}, {{"type", "answer"}, {"sdp", answer}});
        janus.trickle(h, candidate);
      }
    } catch (const std::exception& e) {
      std::string why = std::string("Janus: ") + e.what();
      run_on(g, [&] { peer->external_failed(why); });
    }
  }
}

void destroy_janus_rooms(JanusClient& janus, const LoadOptions& o, uint64_t room_base) {
  auto admin = janus.attach("janus.plugin.videoroom");
  for (int r = 0; r < o.rooms; ++r)
    janus.message(admin, {{"request", "destroy"}, {"room", room_base + r}});
}

uint64_t sum(const std::vector<std::unique_ptr<Generator>>& gens,
             std::atomic<uint64_t> LiveCounters::*field) {
  uint64_t s = 0;
  for (const auto& g : gens) s += (g->live.*field).load(std::memory_order_relaxed);
  return s;
}

std::string fmt_rate(double v) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(v >= 100 ? 0 : 1) << v;
  return o.str();
}
}  // namespace

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  p.count = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
    return v[std::min(i, v.size() - 1)];
  };
  p.p50 = at(0.50);
  p.p95 = at(0.95);
  p.p99 = at(0.99);
  p.max = v.back();
  return p;
}

LoadReport run_load(const LoadOptions& o, std::ostream& progress) {
  if (o.rooms < 1 || o.publishers < 0 || o.subscribers < 0 || o.publishers + o.subscribers < 1) {
    throw BadInput("need at least one room and one participant");
  }
  if (o.api_key.empty() || o.api_secret.empty())
    throw BadInput(
        "an API key and secret are needed (--api-key/--api-secret or "
        "LIVEKIT_API_KEY/LIVEKIT_API_SECRET)");
  LoadReport report;
  report.options = o;
  auto url = parse_url(o.url);
  boost::asio::io_context resolve_io;
  boost::asio::ip::tcp::resolver resolver(resolve_io);
  auto endpoints = resolver.resolve(url.host, url.port);
  if (endpoints.empty()) throw BadInput("cannot resolve " + url.host);
  auto server = endpoints.begin()->endpoint();

  if (o.floor) {
    progress << "measuring the floor (SRTP, sendmmsg, GSO, recvmmsg) ..." << std::endl;
    report.floor = measure_floor();
  }

  auto certificate = rtc::DtlsCertificate::generate();
  std::atomic<bool> media_stopped{false}, books_closed{false};
  int threads = std::max(1, o.threads);
  std::vector<std::unique_ptr<Generator>> gens;
  for (int t = 0; t < threads; ++t) {
    auto g = std::make_unique<Generator>();
    g->ctx = std::make_unique<GeneratorContext>(
        GeneratorContext{g->io, *certificate, server, url.host + ":" + url.port, o.media, g->live,
                         media_stopped, books_closed});
    g->timer = std::make_unique<boost::asio::steady_timer>(g->io);
    gens.push_back(std::move(g));
  }

  // Peers: every room's publishers first, then the subscribers; started at the join rate,
  // spread round-robin over the threads.
  auto t0 = Clock::now() + std::chrono::milliseconds(100);
  const bool janus_mode = !o.janus_url.empty();
  std::vector<PeerRef> refs;
  size_t k = 0;
  auto add = [&](LoadPeer::Role role, const std::string& room, const std::string& identity,
                 uint32_t pub_index) {
    auth::ClaimGrants claims;
    claims.api_key = o.api_key;
    claims.identity = identity;
    claims.name = identity;
    auth::VideoGrant grant;
    grant.room_join = true;
    grant.room = room;
    grant.can_publish = role == LoadPeer::Role::kPublisher;
    grant.can_subscribe = role == LoadPeer::Role::kSubscriber;
    grant.can_publish_data = false;
    claims.video = grant;
    auto token = auth::mint_token(claims, o.api_secret);
    auto& g = *gens[k % gens.size()];
    g.peers.push_back(std::make_unique<LoadPeer>(*g.ctx, role, room, identity, token, pub_index));
    auto delay = std::chrono::duration<double>(static_cast<double>(k) / std::max(0.1, o.join_rate));
    g.start_at.push_back(janus_mode ? Clock::time_point::max()
                                    : t0 + std::chrono::duration_cast<Clock::duration>(delay));
    refs.push_back({&g, g.peers.back().get(), role, 0, identity});
    ++k;
  };
  uint32_t pub_index = 0;
  for (int r = 0; r < o.rooms; ++r) {
    std::string room = o.room_prefix + "-" + std::to_string(r);
    for (int p = 0; p < o.publishers; ++p) {
      add(LoadPeer::Role::kPublisher, room, "pub-" + std::to_string(r) + "-" + std::to_string(p),
          pub_index++);
      refs.back().room = r;
    }
  }
  for (int r = 0; r < o.rooms; ++r) {
    std::string room = o.room_prefix + "-" + std::to_string(r);
    for (int s = 0; s < o.subscribers; ++s) {
      add(LoadPeer::Role::kSubscriber, room, "sub-" + std::to_string(r) + "-" + std::to_string(s),
          0);
      refs.back().room = r;
    }
  }
  report.peers = k;
  const uint64_t total = k;
  // Subscribers of rooms without publishers never see media.
  const uint64_t want_media = o.publishers > 0 ? total : static_cast<uint64_t>(0);

  for (auto& g : gens) {
    Generator* gp = g.get();
    g->thread = std::thread([gp] {
      auto guard = boost::asio::make_work_guard(gp->io);
      gp->schedule();
      gp->io.run();
    });
  }
  // However the run ends (a setup error thrown below included), the threads stop first.
  struct StopThreads {
    std::vector<std::unique_ptr<Generator>>& gens;
    ~StopThreads() {
      for (auto& g : gens) g->io.stop();
      for (auto& g : gens) {
        if (g->thread.joinable()) g->thread.join();
      }
    }
  } stop_threads{gens};

  std::unique_ptr<JanusClient> janus;
  std::atomic<bool> keepalive_stop{false};
  std::thread keepalive;
  uint64_t room_base = 0;
  if (janus_mode) {
    janus = std::make_unique<JanusClient>(o.janus_url);
    progress << "joining " << total << " peers through Janus at " << o.janus_url << std::endl;
    room_base =
        100000 + static_cast<uint64_t>(Clock::now().time_since_epoch().count() % 1000000) * 100;
    join_janus(*janus, o, refs, room_base);
    keepalive = std::thread([&] {
      auto next = Clock::now() + kJanusKeepalive;
      while (!keepalive_stop) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (Clock::now() < next) continue;
        next = Clock::now() + kJanusKeepalive;
        try {
          janus->keepalive();
        } catch (const std::exception&) {
        }
      }
    });
  }

  auto sample_server = [&]() -> std::optional<ProcSample> {
    return o.server_pid ? read_proc(*o.server_pid) : std::nullopt;
  };
  auto start = Clock::now();
  std::optional<ProcSample> last_cpu = sample_server();
  uint64_t last_rx = 0, last_rx_bytes = 0, last_tx = 0;
  auto last_tick = start;
  auto line = [&](const char* phase) {
    auto now = Clock::now();
    double dt = std::chrono::duration<double>(now - last_tick).count();
    last_tick = now;
    uint64_t rx = sum(gens, &LiveCounters::rx_packets), rxb = sum(gens, &LiveCounters::rx_bytes),
             tx = sum(gens, &LiveCounters::tx_packets);
    auto cpu = sample_server();
    std::ostringstream l;
    l << std::fixed << std::setprecision(1) << "[" << std::setw(5)
      << std::chrono::duration<double>(now - start).count() << "s] " << phase << " joined "
      << sum(gens, &LiveCounters::joined) << "/" << total << " media "
      << sum(gens, &LiveCounters::media_ready) << " failed " << sum(gens, &LiveCounters::failed)
      << " | fwd " << fmt_rate(dt > 0 ? (rx - last_rx) / dt : 0) << " pkt/s "
      << fmt_rate(dt > 0 ? (rxb - last_rx_bytes) * 8 / dt / 1e6 : 0) << " Mbit/s, pub "
      << fmt_rate(dt > 0 ? (tx - last_tx) / dt : 0) << " pkt/s, lost "
      << sum(gens, &LiveCounters::rx_lost);
    if (cpu && last_cpu && dt > 0) {
      l << " | server CPU " << std::setprecision(0)
        << 100.0 * (cpu->cpu_seconds - last_cpu->cpu_seconds) / dt << "% RSS " << cpu->rss_kb / 1024
        << " MiB";
    }
    last_cpu = cpu;
    last_rx = rx;
    last_rx_bytes = rxb;
    last_tx = tx;
    progress << l.str() << std::endl;
  };

  // Join phase.
  auto join_deadline = start + std::chrono::milliseconds(100) +
                       std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(total / std::max(0.1, o.join_rate))) +
                       o.join_timeout;
  while (Clock::now() < join_deadline) {
    uint64_t ready = sum(gens, &LiveCounters::media_ready),
             failed = sum(gens, &LiveCounters::failed);
    if (ready + failed >= want_media && sum(gens, &LiveCounters::joined) + failed >= total) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
    line("join");
  }

  // Measurement window.
  auto w0 = Clock::now();
  report.server_start = sample_server();
  uint64_t rx0 = sum(gens, &LiveCounters::rx_packets), rxb0 = sum(gens, &LiveCounters::rx_bytes);
  uint64_t tx0 = sum(gens, &LiveCounters::tx_packets), txb0 = sum(gens, &LiveCounters::tx_bytes);
  last_tick = w0;
  last_rx = rx0;
  last_rx_bytes = rxb0;
  last_tx = tx0;
  last_cpu = report.server_start;
  auto w1 = w0 + o.duration;
  while (Clock::now() < w1) {
    auto next = std::min(w1, Clock::now() + std::chrono::seconds(1));
    std::this_thread::sleep_until(next);
    line("load");
  }
  auto w_end = Clock::now();
  report.server_end = sample_server();
  uint64_t rx1 = sum(gens, &LiveCounters::rx_packets), rxb1 = sum(gens, &LiveCounters::rx_bytes);
  uint64_t tx1 = sum(gens, &LiveCounters::tx_packets), txb1 = sum(gens, &LiveCounters::tx_bytes);
  report.window_seconds = std::chrono::duration<double>(w_end - w0).count();

  // Stop, drain, close the books, leave.
  media_stopped = true;
  std::this_thread::sleep_for(kDrain);
  books_closed = true;
  for (auto& g : gens) {
    Generator* gp = g.get();
    boost::asio::post(gp->io, [gp] {
      for (size_t i = 0; i < gp->started; ++i) gp->peers[i]->leave();
    });
  }
  std::this_thread::sleep_for(kLeaveGrace);
  for (auto& g : gens) g->io.stop();
  for (auto& g : gens) g->thread.join();
  if (janus) {
    keepalive_stop = true;
    keepalive.join();
    try {
      destroy_janus_rooms(*janus, o, room_base);
      janus->destroy();
    } catch (const std::exception&) {
    }
  }

  // Results.
  std::vector<PeerResult> results;
  std::vector<double> join_ms, media_ms;
  for (auto& g : gens) {
    for (auto& p : g->peers) {
      auto r = p->result();
      if (r.join_ms) join_ms.push_back(*r.join_ms);
      if (r.media_ms) media_ms.push_back(*r.media_ms);
      if (report.srtp_profile.empty()) report.srtp_profile = r.srtp_profile;
      report.plis += r.plis;
      report.nacks += r.nacks;
      report.retransmitted += r.retransmitted;
      report.srtp_errors += r.srtp_errors;
      report.feedbacks += r.feedbacks_sent;
      if (!r.error.empty()) ++report.failed;
      results.push_back(std::move(r));
    }
  }
  report.joined = join_ms.size();
  report.media_flowing = media_ms.size();
  report.join_ms = percentiles(join_ms);
  report.media_ms = percentiles(media_ms);
  double w = report.window_seconds > 0 ? report.window_seconds : 1;
  report.forwarded_pps = (rx1 - rx0) / w;
  report.forwarded_bps = (rxb1 - rxb0) * 8 / w;
  report.published_pps = (tx1 - tx0) / w;
  report.published_bps = (txb1 - txb0) * 8 / w;
  report.fanout = tx1 > tx0 ? static_cast<double>(rx1 - rx0) / static_cast<double>(tx1 - tx0) : 0;
  if (report.server_start && report.server_end) {
    report.server_cpu_seconds = report.server_end->cpu_seconds - report.server_start->cpu_seconds;
    report.server_cpu_percent = 100.0 * report.server_cpu_seconds / w;
    if (rx1 > rx0)
      report.server_us_per_forwarded =
          report.server_cpu_seconds * 1e6 / static_cast<double>(rx1 - rx0);
  }
  if (report.floor) {
    bool gcm = report.srtp_profile == "AEAD_AES_128_GCM";
    report.floor_us = report.floor->per_forwarded_us(gcm, report.fanout);
    report.floor_gso_us = report.floor->per_forwarded_us(gcm, report.fanout, true);
    if (report.floor_us > 0 && report.server_us_per_forwarded > 0) {
      report.floor_ratio = report.server_us_per_forwarded / report.floor_us;
    }
  }
  report.books = check_books(results);
  return report;
}

namespace {
nlohmann::json percentiles_json(const Percentiles& p) {
  return {{"count", p.count}, {"p50", p.p50}, {"p95", p.p95}, {"p99", p.p99}, {"max", p.max}};
}
nlohmann::json proc_json(const std::optional<ProcSample>& s) {
  if (!s) return nullptr;
  return {{"cpu_seconds", s->cpu_seconds},
          {"user_seconds", s->user_seconds},
          {"system_seconds", s->system_seconds},
          {"rss_kb", s->rss_kb},
          {"peak_rss_kb", s->peak_rss_kb}};
}
}  // namespace

nlohmann::json LoadReport::to_json() const {
  const auto& o = options;
  nlohmann::json j;
  j["scenario"] = {{"url", o.janus_url.empty() ? o.url : o.janus_url},
                   {"server_kind", o.janus_url.empty() ? "livekit" : "janus-videoroom"},
                   {"rooms", o.rooms},
                   {"publishers_per_room", o.publishers},
                   {"subscribers_per_room", o.subscribers},
                   {"duration_s", std::chrono::duration<double>(o.duration).count()},
                   {"audio_only", o.media.audio_only},
                   {"simulcast", o.media.simulcast},
                   {"transport_cc", o.media.transport_cc},
                   {"fps", o.media.fps},
                   {"layer_bps", o.media.layer_bps},
                   {"audio_bps", o.media.audio_bps},
                   {"generator_threads", o.threads},
                   {"join_rate", o.join_rate}};
  j["window_s"] = window_seconds;
  j["peers"] = {
      {"total", peers}, {"joined", joined}, {"media_flowing", media_flowing}, {"failed", failed}};
  j["join_ms"] = percentiles_json(join_ms);
  j["media_ms"] = percentiles_json(media_ms);
  j["forwarded"] = {{"packets_per_s", forwarded_pps}, {"bits_per_s", forwarded_bps}};
  j["published"] = {{"packets_per_s", published_pps}, {"bits_per_s", published_bps}};
  j["fanout"] = fanout;
  j["srtp_profile"] = srtp_profile;
  j["server"] = {
      {"pid", o.server_pid ? nlohmann::json(*o.server_pid) : nlohmann::json(nullptr)},
      {"start", proc_json(server_start)},
      {"end", proc_json(server_end)},
      {"cpu_seconds", server_cpu_seconds},
      {"cpu_percent", server_cpu_percent},
      {"rss_kb", server_end ? nlohmann::json(server_end->rss_kb) : nlohmann::json(nullptr)},
      {"peak_rss_kb",
       server_end ? nlohmann::json(server_end->peak_rss_kb) : nlohmann::json(nullptr)},
      {"us_per_forwarded_packet", server_us_per_forwarded}};
  if (floor) {
    j["floor"] = {{"protect_us",
                   {{"aes_cm_128_hmac_sha1_80", floor->protect_cm_us},
                    {"aead_aes_128_gcm", floor->protect_gcm_us}}},
                  {"unprotect_us",
                   {{"aes_cm_128_hmac_sha1_80", floor->unprotect_cm_us},
                    {"aead_aes_128_gcm", floor->unprotect_gcm_us}}},
                  {"sendmmsg_us", floor->sendmmsg_us},
                  {"gso_us", floor->gso_us},
                  {"gso_error", floor->gso_error},
                  {"recvmmsg_us", floor->recvmmsg_us},
                  {"us_per_forwarded_packet", floor_us},
                  {"us_per_forwarded_packet_gso", floor_gso_us},
                  {"ratio", floor_ratio}};
  } else {
    j["floor"] = nullptr;
  }
  const auto& b = books;
  j["books"] = {{"balanced", b.balanced()},
                {"problems", b.problems},
                {"streams", b.streams},
                {"expected_streams", b.expected_streams},
                {"received", b.received},
                {"lost", b.lost},
                {"server_skipped", b.server_skipped},
                {"loss_percent", b.loss_percent()},
                {"duplicates", b.duplicates},
                {"late", b.late},
                {"too_late", b.too_late},
                {"layer_switches", b.layer_switches},
                {"resumes", b.resumes},
                {"timestamp_anomalies", b.timestamp_anomalies},
                {"tail_unreceived", b.tail_unreceived},
                {"published_packets", b.published_packets},
                {"jitter_ms_mean", b.jitter_ms_mean},
                {"jitter_ms_max", b.jitter_ms_max}};
  j["feedback"] = {{"plis_received", plis},
                   {"nacks_received", nacks},
                   {"retransmitted", retransmitted},
                   {"transport_cc_sent", feedbacks},
                   {"srtp_errors", srtp_errors}};
  return j;
}

void LoadReport::print_table(std::ostream& out) const {
  const auto& o = options;
  auto row = [&](const std::string& k, const std::string& v) {
    out << "  " << std::left << std::setw(42) << k << v << "\n";
  };
  auto num = [](double v, int prec = 1) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(prec) << v;
    return s.str();
  };
  out << "\nparlor load" << (o.janus_url.empty() ? "" : " (Janus VideoRoom)") << ": " << o.rooms
      << " room(s) × " << o.publishers << " publisher(s) × " << o.subscribers << " subscriber(s), "
      << (o.media.audio_only  ? "audio only"
          : o.media.simulcast ? "VP8 simulcast q/h/f + Opus"
                              : "VP8 + Opus")
      << ", window " << num(window_seconds) << " s\n";
  row("peers joined / media / failed", std::to_string(joined) + "/" + std::to_string(peers) +
                                           " / " + std::to_string(media_flowing) + " / " +
                                           std::to_string(failed));
  row("join ms p50 / p95 / p99",
      num(join_ms.p50) + " / " + num(join_ms.p95) + " / " + num(join_ms.p99));
  row("media flowing ms p50 / p95 / p99",
      num(media_ms.p50) + " / " + num(media_ms.p95) + " / " + num(media_ms.p99));
  row("published pkt/s, Mbit/s", num(published_pps, 0) + ", " + num(published_bps / 1e6, 2));
  row("forwarded pkt/s, Mbit/s (fanout)",
      num(forwarded_pps, 0) + ", " + num(forwarded_bps / 1e6, 2) + " (" + num(fanout, 2) + ")");
  row("loss % (lost + skipped / received)",
      num(books.loss_percent(), 3) + " (" + std::to_string(books.lost) + " + " +
          std::to_string(books.server_skipped) + " / " + std::to_string(books.received) + ")");
  row("jitter ms mean / max", num(books.jitter_ms_mean, 2) + " / " + num(books.jitter_ms_max, 2));
  row("SRTP profile", srtp_profile.empty() ? "-" : srtp_profile);
  if (server_end) {
    row("server CPU s, %", num(server_cpu_seconds, 2) + ", " + num(server_cpu_percent, 1) + " %");
    row("server RSS MiB (peak)",
        num(server_end->rss_kb / 1024.0) + " (" + num(server_end->peak_rss_kb / 1024.0) + ")");
    row("server CPU µs / forwarded packet", num(server_us_per_forwarded, 2));
  } else {
    row("server CPU", "not measured (no --server-pid)");
  }
  if (floor) {
    row("floor µs/pkt: protect CM / GCM",
        num(floor->protect_cm_us, 3) + " / " + num(floor->protect_gcm_us, 3));
    row("floor µs/pkt: sendmmsg / GSO / recvmmsg",
        num(floor->sendmmsg_us, 3) + " / " + (floor->gso_us > 0 ? num(floor->gso_us, 3) : "n/a") +
            " / " + num(floor->recvmmsg_us, 3));
    row("floor µs / forwarded packet (GSO)", num(floor_us, 3) + " (" + num(floor_gso_us, 3) + ")");
    row("ratio server / floor", floor_ratio > 0 ? num(floor_ratio, 2) + "×" : "-");
  }
  row("books", books.balanced() ? "balanced" : "NOT BALANCED");
  for (const auto& p : books.problems) out << "    - " << p << "\n";
}

}  // namespace parlor::load
