// `parlor dev`: the newcomer's one command. Runs the platform on loopback with development keys.
// Today that is the media server (signaling API, Twirp, webhooks); the visitation app and web UI
// join this process as they land (see the open issues).
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <vector>

#include "common/errors.hpp"
#include "main/commands.hpp"
#include "main/media_options.hpp"
#include "service/media_server.hpp"

namespace parlor::cmd {

int run_dev(int argc, char** argv) {
  // Same flags as `parlor media`, with --dev forced on.
  std::vector<char*> args(argv, argv + argc);
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
    std::cout << "usage: parlor dev [parlor media options]\n"
                 "Runs Parlor on 127.0.0.1 with API key 'devkey' and secret 'secret'.\n";
    return 0;
  }
  try {
    service::MediaServer server(std::move(config));
    server.start();
    std::cout << "listening http=127.0.0.1:" << server.http_port() << "\n\n"
              << "Parlor (development)\n"
              << "  LiveKit URL:  ws://127.0.0.1:" << server.http_port() << "\n"
              << "  API key:      devkey\n"
              << "  API secret:   secret\n"
              << "  Twirp API:    http://127.0.0.1:" << server.http_port() << "/twirp/\n"
              << "  Metrics:      http://127.0.0.1:" << server.http_port() << "/metrics\n"
              << "Press Ctrl-C to stop." << std::endl;
    boost::asio::io_context signals_io;
    boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { server.stop(); });
    signals_io.run();
    return 0;
  } catch (const Error& e) {
    std::cerr << "parlor dev: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace parlor::cmd
