#pragma once
// Test support: a Room and its Participants driven without a socket, through the SignalSink
// seam. FakeSignalSink records what the server sends; SessionHarness owns a real media worker
// bound to 127.0.0.1 port 0 (tests may send it datagrams, e.g. ICE checks, at udp_port()) and
// runs everything on its thread. Used by
// tests/unit/signal and the signal_session fuzz target.
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "common/boundary.hpp"
#include "signal/room.hpp"
#include "signal/signal_sink.hpp"

namespace parlor::signal::testing {

class FakeSignalSink : public SignalSink {
 public:
  void set_listener(Listener* listener) override { listener_ = listener; }
  void detach() override { listener_ = nullptr; }
  bool send(std::string message) override {
    if (!open_) return false;
    livekit::SignalResponse r;
    if (!r.ParseFromString(message)) unparsable_sent = true;
    responses.push_back(std::move(r));
    return true;
  }
  void close() override { open_ = false; }
  bool open() const override { return open_; }
  std::string remote_address() const override { return "192.0.2.1"; }

  // One frame from the client, through the same boundary WsConnection has: what escapes the
  // listener is recorded (it must not happen: the session catches its own failures).
  void deliver(std::string_view frame) {
    if (!listener_) return;
    if (auto caught = guarded([&] { listener_->on_ws_message(frame); }))
      escaped.push_back(caught->message);
  }
  // The client went away without a leave.
  void drop() {
    open_ = false;
    if (auto* l = std::exchange(listener_, nullptr)) l->on_ws_closed();
  }
  bool attached() const { return listener_ != nullptr; }

  // The responses of one kind, in order.
  std::vector<livekit::SignalResponse> of(livekit::SignalResponse::MessageCase kind) const {
    std::vector<livekit::SignalResponse> out;
    for (const auto& r : responses) {
      if (r.message_case() == kind) out.push_back(r);
    }
    return out;
  }

  std::vector<livekit::SignalResponse> responses;
  std::vector<std::string> escaped;
  bool unparsable_sent = false;

 private:
  Listener* listener_ = nullptr;
  bool open_ = true;
};

class CountingRoomListener : public RoomListener {
 public:
  void on_participant_joined(const livekit::Room&, const livekit::ParticipantInfo&) override {
    ++joined;
  }
  void on_participant_left(const livekit::Room&, const livekit::ParticipantInfo&) override {
    ++left;
  }
  void on_track_published(const livekit::Room&, const livekit::ParticipantInfo&,
                          const livekit::TrackInfo&) override {}
  void on_track_unpublished(const livekit::Room&, const livekit::ParticipantInfo&,
                            const livekit::TrackInfo&) override {}
  void on_participant_count(const std::string&, uint32_t, uint32_t, uint32_t) override {}
  int joined = 0, left = 0;
};

inline const char* kHarnessKey = "devkey";

class SessionHarness {
 public:
  SessionHarness()
      : worker_("127.0.0.1", 0, "127.0.0.1",
                std::make_shared<spdlog::logger>("test",
                                                 std::make_shared<spdlog::sinks::null_sink_mt>())) {
    config.keys[kHarnessKey] = "secret-secret-secret-secret-secret";
    config.node_name = "test-node";
  }
  ~SessionHarness() {
    run([this] { room_.reset(); });
    worker_.stop();
  }

  // Runs fn on the worker thread and waits (the room and its participants live there).
  template <typename Fn>
  void run(Fn&& fn) {
    (void)worker_.call<bool>(
        [&] {
          fn();
          return true;
        },
        std::chrono::hours(1));
  }

  // Worker thread only. The room, created on first use.
  Room& room() {
    if (!room_) {
      livekit::Room info;
      info.set_name("room-" + std::to_string(++rooms_made_));
      info.set_sid("RM_test" + std::to_string(rooms_made_));
      room_ = std::make_unique<Room>(info, config, worker_, listener, counters);
    }
    return *room_;
  }
  void close_room() { room_.reset(); }
  uint16_t udp_port() const { return worker_.udp_port(); }

  static JoinParams params(const std::string& identity, bool single_pc = true) {
    JoinParams p;
    p.claims.identity = identity;
    p.claims.api_key = kHarnessKey;
    p.claims.video.emplace();
    p.claims.video->room_join = true;
    p.claims.video->can_update_own_metadata = true;
    p.single_pc = single_pc;
    p.client.set_protocol(16);
    return p;
  }

  // Worker thread only: joins like SignalServer does, with its boundary; nullopt on success,
  // otherwise what the join threw (the session was then ended and removed by the room).
  std::optional<Caught> join(JoinParams params, const std::shared_ptr<FakeSignalSink>& sink) {
    return guarded([&] { room().join(std::move(params), sink); });
  }

  config::MediaConfig config;
  CountingRoomListener listener;
  LimitCounters counters;

 private:
  sfu::Worker worker_;
  std::unique_ptr<Room> room_;
  int rooms_made_ = 0;
};

}  // namespace parlor::signal::testing
