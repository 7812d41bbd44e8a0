// The `parlor` executable: one binary, one subcommand per role.
//   parlor dev     media + app + UI in one process (SQLite, local recordings, dev keys, demo data)
//   parlor media   the LiveKit-compatible media server
//   parlor app     the visitation backend and web UI
//   parlor admin   administration (users, migrations)
//   parlor load    load generator against any LiveKit-protocol server
#include <cstring>
#include <iostream>
#include <string_view>

#include "app/web/web_assets.hpp"
#include "common/version.hpp"
#include "main/commands.hpp"
#include "main/embedded_web.hpp"

#ifndef PARLOR_BUILD_TYPE
#define PARLOR_BUILD_TYPE "unknown"
#endif

namespace {

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(int argc, char** argv);
};

constexpr Command kCommands[] = {
    {"dev", "run media server, app and web UI together with demo data", parlor::cmd::run_dev},
    {"media", "run the LiveKit-compatible media server", parlor::cmd::run_media},
    {"app", "run the visitation backend and web UI", parlor::cmd::run_app},
    {"admin", "administration: create-user, migrate", parlor::cmd::run_admin},
    {"load", "LiveKit-protocol load generator: rooms of simulated publishers and subscribers", parlor::cmd::run_load},
};

void print_usage(std::ostream& out) {
  out << "usage: parlor <command> [options]\n\ncommands:\n";
  for (const auto& c : kCommands) out << "  " << c.name << "\t" << c.summary << "\n";
  out << "  version\tprint the version, protocol level, build type and embedded UI\n\nRun `parlor <command> --help` for a command's options.\n";
}

// `parlor version`: what an operator (or a bug report) needs to know about this binary.
void print_version(std::ostream& out) {
  namespace v = parlor::version;
  parlor::app::WebAssets web(parlor::cmd::embedded_web_assets());
  out << v::kProduct << " " << v::kParlor << "\n"
      << "LiveKit protocol " << v::kSignalProtocol << " (LiveKit server " << v::kLiveKitCompatible
      << " behaviour)\n"
      << "build: " << PARLOR_BUILD_TYPE << "\n";
  if (web.empty()) {
    out << "web UI: none embedded (built before `make web`; serve one with --web-dir DIR)\n";
  } else {
    out << "web UI: embedded, " << web.size() << " files, " << (web.total_bytes() + 1023) / 1024
        << " KiB\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    print_usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  std::string_view name = argv[1];
  if (name == "version" || name == "--version") {
    print_version(std::cout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (c.name == name) return c.run(argc - 1, argv + 1);
  }
  std::cerr << "parlor: unknown command '" << name << "'\n";
  print_usage(std::cerr);
  return 2;
}
