#include "egress/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace parlor::egress {

ChildResult run_child(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const std::atomic<bool>* cancel) {
  ChildResult result;
  if (argv.empty()) {
    result.error = "no program";
    return result;
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  // The server's sockets and files are none of the child's business (glibc ≥ 2.34).
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // posix_spawn's C signature
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    result.error = "cannot run " + argv[0] + ": " + std::strerror(rc);
    return result;
  }
  result.started = true;

  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool open = true;
  char buffer[4096];
  while (open) {
    if (std::chrono::steady_clock::now() >= deadline || (cancel && cancel->load())) {
      kill(pid, SIGKILL);
      result.killed = true;
      result.error = (cancel && cancel->load()) ? "cancelled" : "timed out after " + std::to_string(timeout.count()) + " ms";
      break;
    }
    pollfd p{pipe_fds[0], POLLIN, 0};
    int n = poll(&p, 1, 100);  // wakes at least every 100 ms to check the deadline and cancel
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    ssize_t got = read(pipe_fds[0], buffer, sizeof(buffer));
    if (got <= 0) {
      if (got < 0 && errno == EINTR) continue;
      open = false;  // the child closed stderr: it is exiting
      break;
    }
    result.stderr_tail.append(buffer, static_cast<size_t>(got));
    if (result.stderr_tail.size() > kStderrTail)
      result.stderr_tail.erase(0, result.stderr_tail.size() - kStderrTail);
  }
  close(pipe_fds[0]);
  int status = 0;
  // After SIGKILL (or EOF on stderr) the child is gone or going; wait, but never forever.
  while (true) {
    pid_t w = waitpid(pid, &status, result.killed ? 0 : WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (w == 0) {
      if (std::chrono::steady_clock::now() >= deadline || (cancel && cancel->load())) {
        kill(pid, SIGKILL);
        result.killed = true;
        if (result.error.empty()) result.error = "timed out";
        continue;
      }
      usleep(10'000);
    }
  }
  if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
  if (!result.killed && result.exit_status != 0) {
    result.error = argv[0] + (result.exit_status >= 0 ? " exited with status " + std::to_string(result.exit_status)
                                                       : std::string(" was killed by a signal"));
  }
  return result;
}

}  // namespace parlor::egress
