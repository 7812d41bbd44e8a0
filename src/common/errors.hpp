#pragma once
// The control path's two error kinds (STYLE.md §7): bad input from outside, and internal failure.
// Each protocol boundary (Twirp, HTTP, signaling, CLI) catches them once and maps them to its
// own error form. The media path never throws.
#include <stdexcept>
#include <string>

namespace parlor {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Input from a client, a file or the environment was wrong; the message says how.
class BadInput : public Error {
 public:
  using Error::Error;
};

// Authentication failed (token missing, malformed, expired, wrong key or signature).
class Unauthenticated : public Error {
 public:
  using Error::Error;
};

// Something that should have worked did not; not the caller's fault.
class InternalError : public Error {
 public:
  using Error::Error;
};

}  // namespace parlor
