#pragma once
// Exception boundaries (STYLE.md §7, DESIGN.md "an exception that can leave a callback is a crash
// of every room on the worker"): every entry into a worker or control thread (a posted task, a
// timer, a socket callback, a request handler) runs its work through guarded(), which catches
// everything, so the caller can log it, count it and end only the session or request that failed.
#include <exception>
#include <optional>
#include <string>

namespace parlor {

// What a boundary caught: its message (std::exception::what(), or a fixed text for anything that
// is not a std::exception) and whether it was bad input from outside.
struct Caught {
  std::string message;
  bool bad_input = false;
};

// The message of the exception being handled; call only inside a catch block.
Caught describe_current_exception() noexcept;

// Runs fn; nullopt when it returned, what it threw otherwise. Never throws.
template <typename Fn>
std::optional<Caught> guarded(Fn&& fn) noexcept {
  try {
    fn();
    return std::nullopt;
  } catch (...) {
    return describe_current_exception();
  }
}

}  // namespace parlor
