// `parlor dev`: the newcomer's one command. Runs the media server and the visitation app (with
// the web UI) in one process on loopback, with development keys, SQLite in ./data and demo data.
// The app talks to the media server only through the LiveKit protocol, as it would in production.
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <vector>

#include "common/errors.hpp"
#include "main/commands.hpp"
#include "main/media_options.hpp"
#include "main/embedded_web.hpp"
#include "main/process.hpp"
#include "main/startup.hpp"
#include "app/app_server.hpp"
#include "service/media_server.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace parlor::cmd {

namespace {
// `--port 0` style requests need a concrete port before the two halves are wired together.
uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}
}  // namespace

int run_dev(int argc, char** argv) {
  // App flags are taken out; the rest are `parlor media` flags, with --dev forced on.
  uint16_t app_port = 8080;
  std::string data_dir = "data", web_dir, database_url, recordings_dir;
  long jobs_interval_ms = 2000;  // quicker than `parlor app`'s default, so demos feel live
  long reconcile_interval_ms = 0, token_grace_seconds = -1;  // unset: the app's defaults
  std::vector<char*> args{argv[0]};
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if ((a == "--app-port" || a == "--data-dir" || a == "--web-dir" || a == "--database-url" ||
           a == "--recordings-dir" || a == "--jobs-interval-ms" || a == "--reconcile-interval-ms" ||
           a == "--token-grace-seconds") &&
          i + 1 < argc) {
        std::string v = argv[++i];
        auto number = [&](long lo, long hi) {
          try {
            size_t used = 0;
            long n = std::stol(v, &used);
            if (used == v.size() && n >= lo && n <= hi) return n;
          } catch (const std::exception&) {
          }
          throw BadInput(a + ": expected a number from " + std::to_string(lo) + " to " + std::to_string(hi));
        };
        if (a == "--app-port") app_port = static_cast<uint16_t>(number(0, 65535));
        if (a == "--recordings-dir") recordings_dir = v;
        if (a == "--jobs-interval-ms") jobs_interval_ms = number(50, 3600000);
        if (a == "--reconcile-interval-ms") reconcile_interval_ms = number(50, 3600000);
        if (a == "--token-grace-seconds") token_grace_seconds = number(0, 3600);
        if (a == "--data-dir") data_dir = v;
        if (a == "--web-dir") web_dir = v;
        if (a == "--database-url") database_url = v;
      } else {
        args.push_back(argv[i]);
      }
    }
  } catch (const Error& e) {
    std::cerr << "parlor dev: " << e.what() << "\n";
    return 2;
  }
  std::string dev_flag = "--dev";
  args.push_back(dev_flag.data());
  bool help = false;
  config::MediaConfig config;
  try {
    config = load_media_config(static_cast<int>(args.size()), args.data(), &help);
  } catch (const Error& e) {
    std::cerr << "parlor dev: " << e.what() << "\n";
    return 2;
  }
  if (help) {
    std::cout << "usage: parlor dev [--app-port N] [--data-dir DIR] [--database-url URL] "
                 "[--web-dir DIR]\n"
                 "                  [--recordings-dir DIR] [--jobs-interval-ms N] "
                 "[--reconcile-interval-ms N]\n"
                 "                  [--token-grace-seconds N] [parlor media options]\n"
                 "Runs media server + app + web UI on 127.0.0.1 with API key 'devkey' and secret\n"
                 "'secret', SQLite in DIR (default ./data) and demo accounts. Ports 0 = pick free "
                 "ones.\n"
                 "The web UI is the one embedded in this binary; --web-dir DIR serves DIR instead\n"
                 "(e.g. web/dist while developing the UI).\n"
                 "--tls-cert/--tls-key (or PARLOR_TLS_CERT/PARLOR_TLS_KEY): HTTPS for the UI and\n"
                 "WSS/HTTPS for the media server from one PEM certificate, which must be valid for\n"
                 "127.0.0.1 (e.g. `mkcert localhost 127.0.0.1`).\n";
    return 0;
  }
  try {
    if (config.port == 0) config.port = free_port();
    if (app_port == 0) app_port = free_port();
    // One certificate for both listeners (--tls-cert/--tls-key, or PARLOR_TLS_CERT/KEY): the UI
    // over HTTPS and the media over WSS. Each half trusts that certificate when it calls the
    // other (the app's Twirp calls, the media server's webhooks), so it must name 127.0.0.1.
    const bool tls = config.tls.enabled();
    const std::string http_scheme = tls ? "https" : "http", ws_scheme = tls ? "wss" : "ws";
    std::string app_url = http_scheme + "://127.0.0.1:" + std::to_string(app_port);
    config.webhook.urls.push_back(app_url + "/webhooks/livekit");
    if (tls && config.webhook.ca_file.empty()) config.webhook.ca_file = config.tls.cert_file;
    config.webhook.api_key = "devkey";
    if (config.webhook.queue_file.empty()) config.webhook.queue_file = data_dir + "/webhooks.queue";
    // Only the app opens rooms (CreateRoom when a visit's join window opens), so a join token
    // can never bring back the room of a visit that ended.
    config.room.auto_create = false;
    app::AppConfig app_config;
    app_config.port = app_port;
    app_config.dev = true;  // one process: the E2EE secret may live in the data directory
    app_config.data_dir = data_dir;
    app_config.web_dir = web_dir;
    app_config.embedded_web = embedded_web_assets();
    app_config.database_url = database_url;
    // One recordings directory for both halves: the media server writes the files the app
    // hashes, lists and plays (the app's default, <data-dir>/recordings, unless given).
    if (recordings_dir.empty()) recordings_dir = data_dir + "/recordings";
    app_config.recordings_dir = recordings_dir;
    config.egress.recordings_dir = recordings_dir;
    app_config.jobs_interval = std::chrono::milliseconds(jobs_interval_ms);
    if (reconcile_interval_ms > 0) {
      app_config.settings.reconcile_interval = std::chrono::milliseconds(reconcile_interval_ms);
    }
    if (token_grace_seconds >= 0) {
      app_config.settings.token_grace = std::chrono::seconds(token_grace_seconds);
    }
    app_config.tls = config.tls;
    app_config.video.url = ws_scheme + "://127.0.0.1:" + std::to_string(config.port);
    if (tls) app_config.video.ca_file = config.tls.cert_file;
    app_config.video.api_key = "devkey";
    app_config.video.api_secret = config.keys.at("devkey");
    app::AppServer app_server(std::move(app_config));
    std::string logins = app_server.seed_demo();
    service::MediaServer server(std::move(config));
    server.start();
    app_server.start();
    print_lines(std::cout, media_startup_lines(server));
    print_lines(std::cout, app_server.startup_lines());
    std::cout << "\n"
              << "Parlor (development)\n"
              << "  Web UI + API: " << app_url << "\n"
              << "  LiveKit URL:  " << ws_scheme << "://127.0.0.1:" << server.http_port() << "\n"
              << "  API key:      devkey\n"
              << "  API secret:   secret\n"
              << "  Twirp API:    " << http_scheme << "://127.0.0.1:" << server.http_port()
              << "/twirp/\n"
              << "  Metrics:      " << http_scheme << "://127.0.0.1:" << server.http_port()
              << "/metrics\n"
              << logins << "Press Ctrl-C to stop." << std::endl;
    wait_for_stop_signal([&] {
      app_server.stop();
      server.stop();
    });
    return 0;
  } catch (const Error& e) {
    std::cerr << "parlor dev: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace parlor::cmd
