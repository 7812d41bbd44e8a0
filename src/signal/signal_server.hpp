#pragma once
// The signaling side of `parlor media`: takes authorized WebSocket upgrades, moves them onto the
// media worker, and runs the rooms there. The HTTP layer (service) authorizes and creates the
// room in the registry first; this class never sees tokens, only their verified claims.
//
// Threading: accept(), close_room(), call() are safe from any thread; rooms live on the worker.
// Lifetime: the worker must be stopped before this object is destroyed.
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <map>
#include <memory>
#include <string>

#include "common/boundary.hpp"
#include "common/http/http_types.hpp"
#include "signal/limits.hpp"
#include "signal/room.hpp"
#include "signal/ws_connection.hpp"

namespace parlor::signal {

// Decodes the `join_request` query parameter of /rtc/v1 (spec §2.4): base64url, then
// WrappedJoinRequest, then gunzip when flagged. Throws BadInput with a message for the 400.
livekit::JoinRequest decode_join_request(const std::string& param, size_t max_bytes);

// Builds JoinParams from verified claims and the request's query (v0) or join request (v1).
JoinParams join_params(const auth::ClaimGrants& claims, const http::Request& request,
                       const livekit::JoinRequest* v1);

class SignalServer {
 public:
  SignalServer(const config::MediaConfig& config, sfu::Worker& worker, RoomListener& listener);
  ~SignalServer();

  // Completes the WebSocket upgrade on the worker and joins the participant to the room, or
  // answers 403 "room is full" when the room has max_participants others (a rejoin with an
  // identity already there replaces itself and is let in).
  // `lease` (a connection-limit slot) is held until the socket closes.
  void accept(JoinParams params, livekit::Room room, WsConnection::UpgradeRequest raw,
              http::UpgradeStream stream, std::shared_ptr<void> lease = nullptr);
  // Refusals by the per-participant limits; readable from any thread.
  const LimitCounters& limit_counters() const { return counters_; }
  void close_room(const std::string& name, livekit::DisconnectReason reason);

  // Worker thread only.
  Room* find_room(const std::string& name);

 private:
  void schedule_tick();
  // Worker thread: the live room already holds `max_participants` and `identity` is not one of
  // them.
  bool room_full_for(const livekit::Room& registered, const std::string& identity);
  void open_session(JoinParams params, const livekit::Room& room,
                    const std::shared_ptr<WsConnection>& connection);
  void fail_session(const std::string& room, const std::string& identity, WsConnection& connection,
                    const Caught& caught);

  const config::MediaConfig& config_;
  sfu::Worker& worker_;
  RoomListener& listener_;
  LimitCounters counters_;
  std::map<std::string, std::unique_ptr<Room>> rooms_;
  boost::asio::steady_timer tick_timer_;
};

}  // namespace parlor::signal
