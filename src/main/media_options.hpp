#pragma once
// Builds the media server's configuration from argv and the environment (shared by
// `parlor media` and `parlor dev`). Throws parlor::BadInput with one clear line.
#include "common/config/media_config.hpp"

namespace parlor::cmd {

config::MediaConfig load_media_config(int argc, char** argv, bool* help);

}  // namespace parlor::cmd
