// `parlor app`: the visitation backend and web UI.
#include <iostream>

#include "app/app_server.hpp"
#include "common/errors.hpp"
#include "main/commands.hpp"
#include "main/embedded_web.hpp"
#include "main/process.hpp"
#include "main/startup.hpp"

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
    config.embedded_web = embedded_web_assets();
    app::AppServer server(std::move(config));
    server.start();
    print_lines(std::cout, server.startup_lines());
    std::cout << std::flush;
    wait_for_stop_signal([&] { server.stop(); });
    return 0;
  } catch (const Error& e) {
    std::cerr << "parlor app: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace parlor::cmd
