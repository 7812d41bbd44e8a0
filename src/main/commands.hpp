#pragma once
// Entry points of the `parlor` subcommands. Each receives argv with argv[0] = the command name.
// Each lives in its own file: media_command.cpp, app_command.cpp, dev_command.cpp, admin_command.cpp,
// load_command.cpp.

#include "common/version.hpp"

namespace parlor::cmd {

inline constexpr const char* kVersion = version::kParlor;

int run_dev(int argc, char** argv);
int run_media(int argc, char** argv);
int run_app(int argc, char** argv);
int run_admin(int argc, char** argv);
int run_load(int argc, char** argv);

}  // namespace parlor::cmd
