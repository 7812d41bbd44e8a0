#pragma once
// The seam between a participant and the socket that carries its signaling: what a session needs
// from its connection (send a message, close, who is on the other end) and the events it gets
// back. WsConnection is the real one; tests and the session fuzzer use a fake that records what
// was sent, so a Participant and its Room run without a socket.
//
// Threading: all calls on the room's worker thread.
#include <string>
#include <string_view>

namespace parlor::signal {

class SignalSink {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // One binary message; the view is valid only during the call.
    virtual void on_ws_message(std::string_view message) = 0;
    virtual void on_ws_closed() = 0;
  };

  virtual ~SignalSink() = default;
  virtual void set_listener(Listener* listener) = 0;
  // The listener goes away: no more events to it.
  virtual void detach() = 0;
  // Queues one binary message; false when it was not taken (closed, or the queue is full).
  virtual bool send(std::string message) = 0;
  // Sends what is queued, then closes.
  virtual void close() = 0;
  virtual bool open() const = 0;
  virtual std::string remote_address() const = 0;
};

}  // namespace parlor::signal
