#include <iostream>

#include "main/commands.hpp"

namespace parlor::cmd {

// Not built yet: see the open issues. Fails loudly instead of pretending to run.
int run_app(int, char**) {
  std::cerr << "parlor app: not implemented yet\n";
  return 1;
}

}  // namespace parlor::cmd
