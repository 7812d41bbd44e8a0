#pragma once
// An asynchronous request's answer that is given exactly once, whatever happens to the work that
// should give it: the first call answers, later calls are ignored, and when every copy is
// destroyed unanswered (the task carrying it was dropped, e.g. by a stopping worker) the
// fallback is sent. Copyable (copies share the answer); callable from any thread.
#include <atomic>
#include <functional>
#include <memory>

#include "common/boundary.hpp"
#include "common/http/http_server.hpp"

namespace parlor::http {

class RespondOnce {
 public:
  RespondOnce(Respond respond, std::function<Response()> fallback)
      : state_(std::make_shared<State>(std::move(respond), std::move(fallback))) {}

  // Answers unless an answer was already given; true when this call gave it.
  bool operator()(Response response) const {
    if (state_->answered.exchange(true)) return false;
    state_->respond(std::move(response));
    return true;
  }
  bool answered() const { return state_->answered.load(); }

 private:
  struct State {
    State(Respond r, std::function<Response()> f) : respond(std::move(r)), fallback(std::move(f)) {}
    ~State() {
      if (answered.exchange(true)) return;
      guarded([this] { respond(fallback()); });  // a destructor must not throw
    }
    Respond respond;
    std::function<Response()> fallback;
    std::atomic<bool> answered{false};
  };
  std::shared_ptr<State> state_;
};

}  // namespace parlor::http
