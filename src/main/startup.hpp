#pragma once
// The lines `parlor media`, `parlor app` and `parlor dev` print once they listen: every
// listener with what it serves, and every optional part that is missing. Tests read the
// "listening http=ADDR:PORT" and "listening app=ADDR:PORT" prefixes; keep them.
#include <ostream>
#include <string>
#include <vector>

namespace parlor::service {
class MediaServer;
}

namespace parlor::cmd {

std::vector<std::string> media_startup_lines(const service::MediaServer& server);
void print_lines(std::ostream& out, const std::vector<std::string>& lines);

}  // namespace parlor::cmd
