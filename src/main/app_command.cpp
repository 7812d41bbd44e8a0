// `parlor app`: the visitation backend and web UI.
#include <iostream>

#include "app/app_server.hpp"
#include "common/errors.hpp"
#include "main/commands.hpp"
#include "main/process.hpp"

namespace parlor::cmd {

int run_app(int argc, char** argv) {
  bool help = false;
  app::AppConfig config;
  try {
    config = app::load_app_config(argc, argv, environment_map(), &help);
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
    wait_for_stop_signal([&] { server.stop(); });
    return 0;
  } catch (const Error& e) {
    std::cerr << "parlor app: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace parlor::cmd
