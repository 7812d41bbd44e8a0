#pragma once
// A process's CPU time and memory from /proc (proc(5)): user+sys from /proc/PID/stat (fields 14
// and 15, in clock ticks), resident set from /proc/PID/status (VmRSS, VmHWM).
#include <sys/types.h>

#include <optional>
#include <string>

namespace parlor::load {

struct ProcSample {
  double cpu_seconds = 0;  // user + system
  double user_seconds = 0, system_seconds = 0;
  uint64_t rss_kb = 0, peak_rss_kb = 0;
};

// nullopt if the process does not exist or /proc is unreadable.
std::optional<ProcSample> read_proc(pid_t pid);

// Parses the text of /proc/PID/stat (the command name may hold spaces and parentheses).
std::optional<ProcSample> parse_proc_stat(const std::string& stat, long ticks_per_second);

}  // namespace parlor::load
