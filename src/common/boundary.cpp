#include "common/boundary.hpp"

#include "common/errors.hpp"

namespace parlor {

Caught describe_current_exception() noexcept {
  try {
    throw;
  } catch (const BadInput& e) {
    return {e.what(), true};
  } catch (const std::exception& e) {
    return {e.what(), false};
  } catch (...) {
    return {"an exception that is not a std::exception", false};
  }
}

}  // namespace parlor
