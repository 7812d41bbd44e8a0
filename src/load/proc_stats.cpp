#include "load/proc_stats.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace parlor::load {

std::optional<ProcSample> parse_proc_stat(const std::string& stat, long ticks) {
  // "pid (comm) state ppid ..." — comm ends at the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos || ticks <= 0) return std::nullopt;
  std::istringstream in(stat.substr(close + 1));
  std::string field;
  // After comm: field 3 (state) is the first; utime is field 14, stime field 15.
  unsigned long long utime = 0, stime = 0;
  for (int f = 3; f <= 15; ++f) {
    if (!(in >> field)) return std::nullopt;
    if (f == 14) utime = std::stoull(field);
    if (f == 15) stime = std::stoull(field);
  }
  ProcSample s;
  s.user_seconds = static_cast<double>(utime) / static_cast<double>(ticks);
  s.system_seconds = static_cast<double>(stime) / static_cast<double>(ticks);
  s.cpu_seconds = s.user_seconds + s.system_seconds;
  return s;
}

std::optional<ProcSample> read_proc(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::optional<ProcSample> s;
  try {
    s = parse_proc_stat(text, sysconf(_SC_CLK_TCK));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!s) return s;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream in(line);
    std::string key;
    uint64_t kb = 0;
    in >> key >> kb;
    if (key == "VmRSS:") s->rss_kb = kb;
    if (key == "VmHWM:") s->peak_rss_kb = kb;
  }
  return s;
}

}  // namespace parlor::load
