// `parlor media`: the LiveKit-compatible media server.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/config/media_config.hpp"
#include "common/errors.hpp"
#include "main/commands.hpp"
#include "main/media_options.hpp"
#include "main/process.hpp"
#include "main/startup.hpp"
#include "service/media_server.hpp"

namespace parlor::cmd {

namespace {

constexpr const char* kMediaUsage = R"(usage: parlor media [options]

Runs the LiveKit-compatible media server. Configuration is read in this order, later wins:
defaults, the YAML (--config FILE, or the YAML itself in --config-body or LIVEKIT_CONFIG, which
wins), LIVEKIT_* environment variables, flags.

options:
  --config FILE        YAML config (LiveKit key names; see config-sample.yaml)
  --config-body YAML   the YAML config itself (like LIVEKIT_CONFIG)
  --dev                development mode: key 'devkey' / secret 'secret', loopback only
  --port N             HTTP/WebSocket/Twirp port (default 7880; 0 = pick a free one)
  --bind ADDR          address to listen on (default 127.0.0.1)
  --keys "KEY: SECRET" API key pair(s), comma separated (like LIVEKIT_KEYS)
  --udp-port N         first WebRTC UDP port (default 7882; media worker i uses N + i)
  --tcp-port N         first ICE-TCP port for networks that block UDP (default 7881; 0 = off;
                       worker i uses N + i)
  --workers N          media worker threads (rtc.workers, PARLOR_RTC_WORKERS; 0 = one per core)
  --node-ip ADDR       address advertised in ICE candidates
  --webhook URL        add a webhook URL (repeatable)
  --log-level LEVEL    trace, debug, info, warn, error
  --tls-cert FILE      serve HTTPS/WSS with this PEM certificate chain (PARLOR_TLS_CERT;
                       YAML tls.cert_file); reloaded when the file changes
  --tls-key FILE       the certificate's PEM private key (PARLOR_TLS_KEY; tls.key_file)
)";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw BadInput("cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint16_t parse_port(const std::string& v, const std::string& flag) {
  try {
    size_t used = 0;
    unsigned long n = std::stoul(v, &used);
    if (used == v.size() && n <= 65535) return static_cast<uint16_t>(n);
  } catch (const std::exception&) {
  }
  throw BadInput(flag + ": expected a port number 0-65535, got '" + v + "'");
}

}  // namespace

config::MediaConfig load_media_config(int argc, char** argv, bool* help) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto env = environment_map();
  // As in LiveKit: LIVEKIT_CONFIG (or --config-body) is the YAML itself, typically handed to a
  // container; when it is set it wins over --config FILE.
  std::string config_path;
  std::string config_body = env.count("LIVEKIT_CONFIG") ? env["LIVEKIT_CONFIG"] : "";
  bool dev = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) config_path = args[++i];
    if (args[i] == "--config-body" && i + 1 < args.size()) config_body = args[++i];
    if (args[i] == "--dev") dev = true;
    if (args[i] == "--help" || args[i] == "-h") *help = true;
  }
  config::MediaConfig c;
  if (!config_body.empty()) {
    config::apply_yaml(c, config_body);
  } else if (!config_path.empty()) {
    config::apply_yaml(c, read_file(config_path));
  }
  if (!c.key_file.empty()) c.keys = config::parse_keys(read_file(c.key_file));
  config::apply_env(c, env);
  if (dev || c.development) config::apply_dev(c);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw BadInput(a + ": missing value");
      return args[++i];
    };
    if (a == "--config" || a == "--config-body") {
      ++i;
    } else if (a == "--dev" || a == "--help" || a == "-h") {
    } else if (a == "--port") {
      c.port = parse_port(value(), a);
    } else if (a == "--bind") {
      c.bind_addresses = {value()};
    } else if (a == "--keys") {
      c.keys = config::parse_keys(value());
    } else if (a == "--udp-port") {
      c.rtc.udp_port = parse_port(value(), a);
    } else if (a == "--tcp-port") {
      c.rtc.tcp_port = parse_port(value(), a);
    } else if (a == "--workers") {
      auto v = value();
      try {
        size_t used = 0;
        unsigned long n = std::stoul(v, &used);
        if (used != v.size() || n > config::kMaxWorkers) throw std::out_of_range(v);
        c.rtc.workers = static_cast<uint32_t>(n);
      } catch (const std::exception&) {
        throw BadInput(a + ": expected a number 0-" + std::to_string(config::kMaxWorkers) + ", got '" + v + "'");
      }
    } else if (a == "--node-ip") {
      c.rtc.node_ip = value();
    } else if (a == "--webhook") {
      c.webhook.urls.push_back(value());
    } else if (a == "--log-level") {
      c.logging.level = value();
    } else if (a == "--tls-cert") {
      c.tls.cert_file = value();
    } else if (a == "--tls-key") {
      c.tls.key_file = value();
    } else {
      throw BadInput("unknown option '" + a + "' (see parlor media --help)");
    }
  }
  config::validate(c);
  return c;
}

int run_media(int argc, char** argv) {
  bool help = false;
  config::MediaConfig config;
  try {
    config = load_media_config(argc, argv, &help);
  } catch (const Error& e) {
    if (help) {
      std::cout << kMediaUsage;
      return 0;
    }
    std::cerr << "parlor media: " << e.what() << "\n";
    return 2;
  }
  if (help) {
    std::cout << kMediaUsage;
    return 0;
  }
  try {
    service::MediaServer server(std::move(config));
    server.start();
    print_lines(std::cout, media_startup_lines(server));
    std::cout << std::flush;
    wait_for_stop_signal([&] { server.stop(); });
    return 0;
  } catch (const Error& e) {
    std::cerr << "parlor media: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace parlor::cmd
