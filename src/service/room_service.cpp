#include "service/room_service.hpp"

#include <functional>
#include <map>

#include "common/errors.hpp"
#include "livekit_room.pb.h"
#include "service/join_auth.hpp"
#include "service/twirp.hpp"

namespace parlor::service {
namespace {

constexpr std::string_view kPrefix = "/twirp/livekit.RoomService/";

enum class Grant { kCreate, kList, kAdmin };

void require(const auth::ClaimGrants& claims, Grant grant, const std::string& room) {
  const auto& v = claims.video;
  bool ok = false;
  if (v) {
    switch (grant) {
      case Grant::kCreate: ok = v->room_create; break;
      case Grant::kList: ok = v->room_list; break;
      case Grant::kAdmin: ok = v->room_admin && v->room == room; break;
    }
  }
  // LiveKit answers a missing grant with Twirp `unauthenticated` (401), "permissions denied".
  if (!ok) throw TwirpError("unauthenticated", "permissions denied");
}

ParticipantDirectory& directory_or_throw(RoomManager& rooms, const std::string& room) {
  if (!rooms.find(room)) throw TwirpError("not_found", "requested room does not exist");
  auto* dir = rooms.directory();
  if (!dir) throw TwirpError("not_found", "participant does not exist");
  return *dir;
}

}  // namespace

http::Response RoomService::error_from_current_exception(const std::string& path) {
  return twirp_error_from_current_exception([&](const Caught& caught) {
    if (on_caught_) on_caught_(path, caught);
  });
}

void RoomService::handle(const http::Request& req, http::Respond respond) {
  serve_twirp(std::move(respond), [&](const http::RespondOnce& reply) { return dispatch(req, reply); },
              [&] { return error_from_current_exception(req.path); });
}

void RoomService::on_directory(ParticipantDirectory& directory, const std::string& room,
                               const http::Request& req, const http::RespondOnce& reply,
                               std::function<http::Response(ParticipantDirectory&)> work) {
  directory.post(room, [this, &directory, reply, work = std::move(work), path = req.path] {
    http::Response res;
    try {
      res = work(directory);
    } catch (...) {
      res = error_from_current_exception(path);
    }
    reply(std::move(res));
  });
}

std::optional<http::Response> RoomService::dispatch(const http::Request& req,
                                                    const http::RespondOnce& reply) {
  if (req.method != "POST") return twirp_error_response("bad_route", "Twirp methods must be POSTed");
  std::string method = req.path.substr(std::min(req.path.size(), kPrefix.size()));
  auth::ClaimGrants claims;
  try {
    claims = verify_with_keys(config_, extract_token(req));
  } catch (const Unauthenticated& e) {
    // LiveKit's auth middleware rejects bad tokens before Twirp, as plain text.
    return http::Response::text(401, e.what());
  }
  TwirpEncoding enc = twirp_encoding(req);
  auto encode = [enc](const google::protobuf::Message& m) { return encode_twirp(m, enc); };
  auto reply_msg = [&](const google::protobuf::Message& m) -> std::optional<http::Response> {
    return encode(m);
  };
  if (method == "CreateRoom") {
    livekit::CreateRoomRequest r;
    decode_twirp(req, enc, r);
    require(claims, Grant::kCreate, r.name());
    return reply_msg(rooms_.create(r));
  }
  if (method == "ListRooms") {
    livekit::ListRoomsRequest r;
    decode_twirp(req, enc, r);
    require(claims, Grant::kList, "");
    livekit::ListRoomsResponse out;
    for (auto& room : rooms_.list({r.names().begin(), r.names().end()})) {
      *out.add_rooms() = std::move(room);
    }
    return reply_msg(out);
  }
  if (method == "DeleteRoom") {
    livekit::DeleteRoomRequest r;
    decode_twirp(req, enc, r);
    require(claims, Grant::kCreate, r.room());
    if (!rooms_.remove(r.room())) throw TwirpError("not_found", "requested room does not exist");
    return reply_msg(livekit::DeleteRoomResponse{});
  }
  if (method == "UpdateRoomMetadata") {
    livekit::UpdateRoomMetadataRequest r;
    decode_twirp(req, enc, r);
    require(claims, Grant::kAdmin, r.room());
    return reply_msg(rooms_.update_metadata(r.room(), r.metadata()));
  }
  // Participant methods: the checks above the post answer at once; the rest runs on the
  // directory's thread and answers from there.
  auto posted = [&](ParticipantDirectory& dir, const std::string& room,
                    std::function<http::Response(ParticipantDirectory&)> work)
      -> std::optional<http::Response> {
    on_directory(dir, room, req, reply, std::move(work));
    return std::nullopt;
  };
  if (method == "ListParticipants") {
    livekit::ListParticipantsRequest r;
    decode_twirp(req, enc, r);
    require(claims, Grant::kAdmin, r.room());
    if (!rooms_.find(r.room())) throw TwirpError("not_found", "requested room does not exist");
    auto* dir = rooms_.directory();
    if (!dir) return reply_msg(livekit::ListParticipantsResponse{});
    return posted(*dir, r.room(), [encode, room = r.room()](ParticipantDirectory& d) {
      livekit::ListParticipantsResponse out;
      for (auto& p : d.list(room)) *out.add_participants() = std::move(p);
      return encode(out);
    });
  }
  if (method == "GetParticipant") {
    livekit::RoomParticipantIdentity r;
    decode_twirp(req, enc, r);
    require(claims, Grant::kAdmin, r.room());
    return posted(directory_or_throw(rooms_, r.room()), r.room(), [encode, r](ParticipantDirectory& d) {
      return encode(d.get(r.room(), r.identity()));
    });
  }
  if (method == "RemoveParticipant") {
    livekit::RoomParticipantIdentity r;
    decode_twirp(req, enc, r);
    require(claims, Grant::kAdmin, r.room());
    return posted(directory_or_throw(rooms_, r.room()), r.room(), [encode, r](ParticipantDirectory& d) {
      d.remove(r.room(), r.identity());
      return encode(livekit::RemoveParticipantResponse{});
    });
  }
  if (method == "MutePublishedTrack") {
    livekit::MuteRoomTrackRequest r;
    decode_twirp(req, enc, r);
    require(claims, Grant::kAdmin, r.room());
    return posted(directory_or_throw(rooms_, r.room()), r.room(), [encode, r](ParticipantDirectory& d) {
      livekit::MuteRoomTrackResponse out;
      *out.mutable_track() = d.mute(r);
      return encode(out);
    });
  }
  if (method == "UpdateParticipant") {
    livekit::UpdateParticipantRequest r;
    decode_twirp(req, enc, r);
    require(claims, Grant::kAdmin, r.room());
    if (r.metadata().size() > config_.limit.max_metadata_size) {
      throw TwirpError("invalid_argument", "metadata exceeds limit.max_metadata_size");
    }
    return posted(directory_or_throw(rooms_, r.room()), r.room(),
                  [encode, r](ParticipantDirectory& d) { return encode(d.update(r)); });
  }
  if (method == "UpdateSubscriptions") {
    livekit::UpdateSubscriptionsRequest r;
    decode_twirp(req, enc, r);
    require(claims, Grant::kAdmin, r.room());
    return posted(directory_or_throw(rooms_, r.room()), r.room(), [encode, r](ParticipantDirectory& d) {
      d.update_subscriptions(r);
      return encode(livekit::UpdateSubscriptionsResponse{});
    });
  }
  if (method == "SendData") {
    livekit::SendDataRequest r;
    decode_twirp(req, enc, r);
    require(claims, Grant::kAdmin, r.room());
    if (r.data().size() > config_.limit.max_data_packet_bytes) {
      throw TwirpError("invalid_argument", "data exceeds limit.max_data_packet_bytes");
    }
    if (!rooms_.find(r.room())) throw TwirpError("not_found", "requested room does not exist");
    // With nobody connected there is nobody to deliver to; that is not an error.
    auto* dir = rooms_.directory();
    if (!dir) return reply_msg(livekit::SendDataResponse{});
    return posted(*dir, r.room(), [encode, r](ParticipantDirectory& d) {
      d.send_data(r);
      return encode(livekit::SendDataResponse{});
    });
  }
  if (method == "ForwardParticipant" || method == "MoveParticipant" || method == "PerformRpc") {
    throw TwirpError("unimplemented", method + " is not supported by this server");
  }
  throw TwirpError("bad_route", "no such method: livekit.RoomService/" + method);
}

}  // namespace parlor::service
