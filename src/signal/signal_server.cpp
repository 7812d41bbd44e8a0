#include "signal/signal_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <optional>

#include "common/boundary.hpp"
#include "common/encoding.hpp"
#include "common/errors.hpp"

namespace parlor::signal {

namespace {
bool truthy(const std::string& v) { return v == "1" || v == "true"; }
}  // namespace

livekit::JoinRequest decode_join_request(const std::string& param, size_t max_bytes) {
  auto raw = common::base64_decode(param);
  if (!raw) throw BadInput("join_request is not valid base64url");
  livekit::WrappedJoinRequest wrapped;
  if (!wrapped.ParseFromString(*raw)) throw BadInput("join_request is not a WrappedJoinRequest");
  std::string body = wrapped.join_request();
  if (wrapped.compression() == livekit::WrappedJoinRequest::GZIP) {
    auto inflated = common::gunzip(body, max_bytes);
    if (!inflated) throw BadInput("join_request: gzip data is corrupt or too large");
    body = std::move(*inflated);
  } else if (wrapped.compression() != livekit::WrappedJoinRequest::NONE) {
    throw BadInput("join_request: unknown compression");
  }
  if (body.size() > max_bytes) throw BadInput("join_request too large");
  livekit::JoinRequest request;
  if (!request.ParseFromString(body)) throw BadInput("join_request is not a JoinRequest");
  return request;
}

JoinParams join_params(const auth::ClaimGrants& claims, const http::Request& req, const livekit::JoinRequest* v1) {
  JoinParams p;
  p.claims = claims;
  if (v1) {
    p.single_pc = true;
    p.client = v1->client_info();
    p.auto_subscribe = v1->has_connection_settings() ? v1->connection_settings().auto_subscribe() : true;
    p.adaptive_stream = v1->connection_settings().adaptive_stream();
    if (v1->has_publisher_offer()) p.publisher_offer = v1->publisher_offer();
    p.add_tracks.assign(v1->add_track_requests().begin(), v1->add_track_requests().end());
    p.resume_sid = v1->participant_sid();
    if (!v1->metadata().empty() && claims.video && claims.video->can_update_own_metadata) {
      p.claims.metadata = v1->metadata();
    }
    return p;
  }
  p.single_pc = false;
  p.auto_subscribe = !req.has_query("auto_subscribe") || truthy(req.query_param("auto_subscribe"));
  p.adaptive_stream = truthy(req.query_param("adaptive_stream"));
  p.client.set_version(req.query_param("version"));
  p.resume_sid = req.query_param("sid");
  try {
    p.client.set_protocol(std::stoi(req.query_param("protocol")));
    p.client.set_client_protocol(std::stoi(req.query_param("client_protocol")));
  } catch (const std::exception&) {
  }
  return p;
}

namespace {
constexpr auto kTickInterval = std::chrono::milliseconds(400);
}

SignalServer::SignalServer(const config::MediaConfig& config, sfu::Worker& worker, RoomListener& listener)
    : config_(config), worker_(worker), listener_(listener), tick_timer_(worker.io()) {
  worker_.post([this] { schedule_tick(); });
}

void SignalServer::schedule_tick() {
  tick_timer_.expires_after(kTickInterval);
  tick_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    auto now = std::chrono::steady_clock::now();
    for (auto& entry : rooms_) {
      Room* room = entry.second.get();
      if (auto caught = guarded([room, now] { room->tick(now); })) {
        worker_.note_caught("room_timer");
        worker_.log().error("room tick threw room={}: {}", entry.first, caught->message);
      }
    }
    worker_.flush();
    schedule_tick();
  });
}

SignalServer::~SignalServer() = default;

void SignalServer::accept(JoinParams params, livekit::Room room, WsConnection::UpgradeRequest raw,
                          http::UpgradeStream stream, std::shared_ptr<void> lease) {
  // Re-home the socket on the worker's io_context: the room's loop then owns signaling too. A
  // plain socket is rebuilt around its descriptor; a TLS stream keeps its session and gets its
  // transport moved underneath (http::RehomableTcpStream).
  std::unique_ptr<http::TlsStream> tls;
  std::optional<boost::asio::ip::tcp::socket> plain;
  if (auto* t = std::get_if<std::unique_ptr<http::TlsStream>>(&stream)) {
    tls = std::move(*t);
    if (!tls || !tls->next_layer().rehome(worker_.io())) return;
  } else {
    auto& old_socket = std::get<boost::beast::tcp_stream>(stream).socket();
    boost::system::error_code ec;
    auto protocol = old_socket.local_endpoint(ec).protocol();
    if (ec) return;
    int fd = old_socket.release(ec);
    if (ec) return;
    plain.emplace(worker_.io(), protocol, fd);
  }
  WsConnection::Limits limits;
  limits.max_message_bytes = config_.limit.max_ws_message_bytes;
  limits.max_queued_bytes = config_.limit.ws_send_queue_bytes;
  limits.overflows = &counters_.ws_send_overflow;
  auto room_name = room.name();
  auto identity = params.claims.identity;
  auto on_caught = [this, room_name, identity](const char* boundary, const Caught& caught) {
    worker_.note_caught(boundary);
    worker_.log().error(
        "signal {}: closing the connection after an exception room={} identity={}: {}", boundary,
        room_name, identity, caught.message);
  };
  auto connection =
      tls ? std::make_shared<WsConnection>(std::move(*tls), limits, std::move(on_caught))
          : std::make_shared<WsConnection>(boost::beast::tcp_stream(std::move(*plain)), limits,
                                           std::move(on_caught));
  connection->hold(std::move(lease));
  auto shared_params = std::make_shared<JoinParams>(std::move(params));
  worker_.post([this, connection, shared_params, room = std::move(room),
                raw = std::move(raw)]() mutable {
    // A full room refuses new identities (a rejoin with the same identity replaces itself).
    // Checked here, before the 101, where the room's participants are.
    if (room_full_for(room, shared_params->claims.identity)) {
      connection->refuse(raw.version(), 403, "room is full");
      return;
    }
    connection->accept(std::move(raw), [this, connection, shared_params, room = std::move(room)] {
      const std::string identity = shared_params->claims.identity;
      if (auto caught =
              guarded([&] { open_session(std::move(*shared_params), room, connection); })) {
        fail_session(room.name(), identity, *connection, *caught);
      }
      worker_.flush();
    });
  });
}

bool SignalServer::room_full_for(const livekit::Room& registered, const std::string& identity) {
  auto* live = find_room(registered.name());
  uint32_t max = registered.max_participants();
  if (!live || !max || live->find(identity)) return false;
  return live->info().num_participants() >= max;
}

// Runs on the worker once the 101 is out: resumes the session or joins the room.
void SignalServer::open_session(JoinParams params, const livekit::Room& room,
                                const std::shared_ptr<WsConnection>& connection) {
  if (params.resume) {
    auto* existing = find_room(room.name());
    auto* p = existing ? existing->find(params.claims.identity) : nullptr;
    if (p && p->sid() == params.resume_sid) {
      auto others = existing->participant_infos(false);
      std::erase_if(others, [&](auto& o) { return o.sid() == p->sid(); });
      p->resume(connection, others);
      return;
    }
    // The session is gone (timed out or replaced): tell the client to rejoin.
    livekit::SignalResponse r;
    r.mutable_leave()->set_can_reconnect(true);
    r.mutable_leave()->set_reason(livekit::STATE_MISMATCH);
    r.mutable_leave()->set_action(livekit::LeaveRequest::RECONNECT);
    connection->send(r.SerializeAsString());
    connection->close();
    return;
  }
  auto& slot = rooms_[room.name()];
  if (!slot) slot = std::make_unique<Room>(room, config_, worker_, listener_, counters_);
  slot->join(std::move(params), connection);
}

// A session that could not be opened (e.g. its join offer is unusable) ends alone, the way
// LiveKit ends a session whose negotiation failed: a clear error, then leave{STATE_MISMATCH,
// RECONNECT} (a full reconnect), then close. The room and everyone else carry on.
void SignalServer::fail_session(const std::string& room, const std::string& identity,
                                WsConnection& connection, const Caught& caught) {
  worker_.note_caught("ws_open");
  worker_.log().warn("signal: join failed room={} identity={} remote={}: {}", room, identity,
                     connection.remote_address(), caught.message);
  guarded([&] {
    livekit::SignalResponse error;
    error.mutable_request_response()->set_reason(
        caught.bad_input ? livekit::RequestResponse::INVALID_REQUEST
                         : livekit::RequestResponse::UNCLASSIFIED_ERROR);
    error.mutable_request_response()->set_message(caught.bad_input ? caught.message
                                                                   : "internal error");
    connection.send(error.SerializeAsString());
    livekit::SignalResponse leave;
    leave.mutable_leave()->set_can_reconnect(true);
    leave.mutable_leave()->set_reason(livekit::STATE_MISMATCH);
    leave.mutable_leave()->set_action(livekit::LeaveRequest::RECONNECT);
    connection.send(leave.SerializeAsString());
  });
  connection.close();
}

void SignalServer::close_room(const std::string& name, livekit::DisconnectReason reason) {
  worker_.post([this, name, reason] {
    auto it = rooms_.find(name);
    if (it == rooms_.end()) return;
    it->second->close(reason);
    rooms_.erase(it);
  });
}

Room* SignalServer::find_room(const std::string& name) {
  worker_.check_owner("the rooms of a SignalServer (find_room)");
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : it->second.get();
}

}  // namespace parlor::signal
