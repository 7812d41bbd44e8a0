#pragma once
// Small process-level helpers shared by the `parlor` subcommands.
#include <functional>
#include <map>
#include <string>

namespace parlor::cmd {

// Blocks until SIGINT or SIGTERM, then runs `on_signal` (which stops the servers).
void wait_for_stop_signal(const std::function<void()>& on_signal);

// The process environment as a map (for config layering and tests).
std::map<std::string, std::string> environment_map();

}  // namespace parlor::cmd
