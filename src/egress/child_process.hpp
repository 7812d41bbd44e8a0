#pragma once
// Runs a program as a child process and waits for it, bounded: posix_spawnp with an argument
// vector (no shell, so file names are never interpreted), stdin and stdout on /dev/null, stderr
// captured (its last kStderrTail bytes, for the error message). The child is killed (SIGKILL)
// when the deadline passes or the cancel flag is set.
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace parlor::egress {

struct ChildResult {
  bool started = false;    // false: the program could not be run (error says why)
  bool killed = false;     // by timeout or cancel
  int exit_status = -1;    // exit code, or -1 if it did not exit normally
  std::string error;       // what went wrong, for messages; empty on exit status 0
  std::string stderr_tail;
};

constexpr size_t kStderrTail = 4096;

ChildResult run_child(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const std::atomic<bool>* cancel = nullptr);

}  // namespace parlor::egress
