// `parlor load`: the LiveKit-protocol load generator (issue 14; src/load/load_test.hpp).
#include <fcntl.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "common/errors.hpp"
#include "load/load_test.hpp"
#include "main/commands.hpp"

namespace parlor::cmd {

namespace {
constexpr const char* kLoadUsage = R"(usage: parlor load [options]
Simulates LiveKit participants on Parlor's own transport (WebSocket signalling, ICE, DTLS, SRTP):
publishers send pre-encoded VP8 simulcast (q/h/f) and Opus at real rates, subscribers check every
stream's sequence numbers, loss, timestamps and jitter. Prints a progress line each second and a
table at the end; exits 1 when the books do not balance (a packet neither received nor counted
lost, a packet nobody sent, a participant that failed) and 2 on bad usage.

  --url URL            server (ws://host:port; default $LIVEKIT_URL, else ws://127.0.0.1:7880)
  --api-key K          (default $LIVEKIT_API_KEY)
  --api-secret S       (default $LIVEKIT_API_SECRET)
  --rooms N            rooms (default 1)
  --publishers P       publishers per room (default 1)
  --subscribers S      subscribers per room (default 1)
  --duration D         measurement window after everyone joined: 20s, 500ms, 2m (default 20s)
  --audio-only         publishers send Opus only
  --no-simulcast       one video layer (1280x720, 1.7 Mbit/s) instead of q/h/f
  --no-transport-cc    subscribers do not negotiate transport-cc (no feedback sent)
  --fps N              video frame rate (default 30)
  --threads N          generator threads (default 1)
  --join-rate R        participants started per second (default 20)
  --join-timeout D     how long to wait for everyone's media (default 30s)
  --room-prefix NAME   rooms are NAME-0, NAME-1, ... (default load)
  --server-pid PID     read the server's CPU and memory from /proc/PID
  --spawn-server       start `parlor media` (this binary) on free ports with a temporary key
                       (against your own server, raise limit.max_ws_connections_per_ip: every
                       participant comes from one address)
  --no-floor           skip the in-process floor measurement
  --json FILE          write every figure as JSON
  --janus URL          drive a Janus VideoRoom instead (http://127.0.0.1:8088/janus): same peers
                       and media, joined through Janus's HTTP API (no key or secret needed)
)";

constexpr const char* kSpawnedConfig =
    "limit:\n  max_ws_connections_per_ip: 100000\n  max_ws_connections_per_room: 100000\n";

std::chrono::milliseconds parse_duration(const std::string& text) {
  size_t used = 0;
  double v = std::stod(text, &used);
  std::string unit = text.substr(used);
  double ms = unit == "ms"                    ? v
              : unit == "m"                   ? v * 60000
              : (unit.empty() || unit == "s") ? v * 1000
                                              : -1;
  if (ms < 0) throw BadInput("bad duration '" + text + "' (use 20s, 500ms or 2m)");
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

std::string random_text(size_t n) {
  static constexpr std::string_view kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  unsigned char b[64];
  RAND_bytes(b, sizeof(b));
  for (size_t i = 0; i < n && i < sizeof(b); ++i) s += kChars[b[i] % kChars.size()];
  return s;
}

// `parlor media` started by us: its pid and URL; stopped (SIGTERM, then waited for) on destruction.
struct SpawnedServer {
  pid_t pid = -1;
  std::string url;
  std::thread drain;

  SpawnedServer(const std::string& key, const std::string& secret) {
    int out[2];
    if (pipe(out) != 0) throw InternalError("pipe failed");
    pid = fork();
    if (pid < 0) throw InternalError("fork failed");
    if (pid == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::string keys = key + ": " + secret;
      // Every simulated participant comes from 127.0.0.1: lift the per-address WebSocket limit
      // (64 by default, limit.max_ws_connections_per_ip), as a load test of any server must.
      execl("/proc/self/exe", "parlor", "media", "--config-body", kSpawnedConfig, "--port", "0",
            "--udp-port", "0", "--tcp-port", "0", "--bind", "127.0.0.1", "--keys", keys.c_str(),
            "--log-level", "warn", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    std::string text;
    char buf[512];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (url.empty() && std::chrono::steady_clock::now() < deadline) {
      ssize_t n = read(out[0], buf, sizeof(buf));
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
      auto at = text.find("listening http=");
      if (at != std::string::npos) {
        auto end = text.find_first_of(" \n", at + 15);
        if (end != std::string::npos) url = "ws://" + text.substr(at + 15, end - at - 15);
      }
    }
    if (url.empty()) {
      stop();
      close(out[0]);
      throw InternalError("the spawned parlor media did not report its port:\n" + text);
    }
    // Keep its stdout drained so it never blocks on a full pipe.
    int fd = out[0];
    drain = std::thread([fd] {
      char b[4096];
      while (read(fd, b, sizeof(b)) > 0) {
      }
      close(fd);
    });
  }
  void stop() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
  }
  ~SpawnedServer() {
    stop();
    if (drain.joinable()) drain.join();
  }
};

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
}  // namespace

int run_load(int argc, char** argv) {
  load::LoadOptions o;
  o.url = env_or("LIVEKIT_URL", "ws://127.0.0.1:7880");
  o.api_key = env_or("LIVEKIT_API_KEY", "");
  o.api_secret = env_or("LIVEKIT_API_SECRET", "");
  std::string json_path;
  bool spawn = false;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw BadInput(a + ": missing value");
        return argv[++i];
      };
      auto integer = [&](int min) {
        std::string v = value();
        size_t used = 0;
        int n = std::stoi(v, &used);
        if (used != v.size() || n < min)
          throw BadInput(a + ": expected an integer ≥ " + std::to_string(min));
        return n;
      };
      if (a == "--help" || a == "-h") {
        std::cout << kLoadUsage;
        return 0;
      } else if (a == "--url") {
        o.url = value();
      } else if (a == "--api-key") {
        o.api_key = value();
      } else if (a == "--api-secret") {
        o.api_secret = value();
      } else if (a == "--rooms") {
        o.rooms = integer(1);
      } else if (a == "--publishers") {
        o.publishers = integer(0);
      } else if (a == "--subscribers") {
        o.subscribers = integer(0);
      } else if (a == "--duration") {
        o.duration = parse_duration(value());
      } else if (a == "--join-timeout") {
        o.join_timeout = parse_duration(value());
      } else if (a == "--audio-only") {
        o.media.audio_only = true;
      } else if (a == "--no-simulcast") {
        o.media.simulcast = false;
      } else if (a == "--no-transport-cc") {
        o.media.transport_cc = false;
      } else if (a == "--fps") {
        o.media.fps = integer(1);
      } else if (a == "--threads") {
        o.threads = integer(1);
      } else if (a == "--join-rate") {
        o.join_rate = std::stod(value());
      } else if (a == "--room-prefix") {
        o.room_prefix = value();
      } else if (a == "--server-pid") {
        o.server_pid = integer(1);
      } else if (a == "--spawn-server") {
        spawn = true;
      } else if (a == "--no-floor") {
        o.floor = false;
      } else if (a == "--janus") {
        o.janus_url = value();
      } else if (a == "--json") {
        json_path = value();
      } else {
        throw BadInput("unknown option '" + a + "'");
      }
    }
    if (o.publishers + o.subscribers < 1)
      throw BadInput("need at least one publisher or subscriber");
  } catch (const std::exception& e) {
    std::cerr << "parlor load: " << e.what() << "\n" << kLoadUsage;
    return 2;
  }
  // Broken pipes (a server that went away) must not kill the generator.
  signal(SIGPIPE, SIG_IGN);
  try {
    std::optional<SpawnedServer> server;
    if (spawn) {
      if (o.api_key.empty()) o.api_key = "load-" + random_text(8);
      if (o.api_secret.empty()) o.api_secret = random_text(40);
      server.emplace(o.api_key, o.api_secret);
      o.url = server->url;
      o.server_pid = server->pid;
      std::cout << "spawned parlor media pid " << server->pid << " at " << o.url << std::endl;
    }
    if (!o.janus_url.empty() && o.api_key.empty()) o.api_key = o.api_secret = "unused";
    auto report = load::run_load(o, std::cout);
    report.print_table(std::cout);
    if (!json_path.empty()) {
      std::ofstream out(json_path);
      out << report.to_json().dump(2) << "\n";
      if (!out) throw InternalError("cannot write " + json_path);
    }
    return report.books.balanced() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "parlor load: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace parlor::cmd
