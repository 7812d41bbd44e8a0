// `parlor app`: the visitation backend and web UI.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "app/app_server.hpp"
#include "common/errors.hpp"
#include "main/commands.hpp"

namespace parlor::cmd {

int run_app(int argc, char** argv) {
  bool help = false;
  app::AppConfig config;
  try {
    config = app::load_app_config(argc, argv, &help);
  } catch (const Error& e) {
    std::cerr << "parlor app: " << e.what() << "\n";
    return 2;
  }
  if (help) {
    std::cout << app::kAppUsage;
    return 0;
  }
  try {
    app::AppServer server(std::move(config));
    server.start();
    std::cout << "listening app=127.0.0.1:" << server.port() << std::endl;
    boost::asio::io_context signals_io;
    boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { server.stop(); });
    signals_io.run();
    return 0;
  } catch (const Error& e) {
    std::cerr << "parlor app: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace parlor::cmd
