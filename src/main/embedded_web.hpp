#pragma once
// The web UI compiled into this binary: a table generated at build time from web/dist by
// tools/embed_web.cpp (see the CMake rule beside the `parlor` target). Empty when web/dist was
// not built when the build was configured.
#include <span>

#include "app/web/web_assets.hpp"

namespace parlor::cmd {

std::span<const app::WebAsset> embedded_web_assets();

}  // namespace parlor::cmd
