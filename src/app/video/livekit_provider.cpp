#include <openssl/sha.h>

#include <algorithm>

#include "app/video/video_provider.hpp"
#include "common/auth/access_token.hpp"
#include "common/encoding.hpp"
#include "common/errors.hpp"
#include "common/http/http_client.hpp"

namespace parlor::app {
namespace {

using json = nlohmann::json;
constexpr auto kAdminTokenTtl = std::chrono::minutes(10);  // as the Node server SDK does

class LiveKitProvider : public VideoProvider {
 public:
  explicit LiveKitProvider(VideoSettings s) : s_(std::move(s)) {
    http_base_ = s_.url;
    if (http_base_.rfind("ws", 0) == 0) http_base_.replace(0, 2, "http");
    while (!http_base_.empty() && http_base_.back() == '/') http_base_.pop_back();
  }

  const char* name() const override { return "livekit"; }

  JoinToken join_token(const JoinGrant& g) override {
    auth::ClaimGrants c;
    c.api_key = s_.api_key;
    c.identity = g.identity;
    c.name = g.name;
    c.metadata = g.metadata;
    auth::VideoGrant v;
    v.room_join = true;
    v.room = g.room;
    if (g.monitor) {
      v.can_publish = false;
      v.can_publish_data = false;
      v.can_subscribe = true;
      v.hidden = true;
    } else {
      v.can_publish = true;
      v.can_subscribe = true;
      v.can_publish_data = true;
      v.can_publish_sources = {"camera", "microphone"};
    }
    c.video = v;
    auth::MintOptions opts;
    opts.ttl = s_.token_ttl;
    if (g.expires_at) {
      // The visit decides: never valid past its end (plus the caller's grace).
      int64_t now =
          std::chrono::duration_cast<std::chrono::seconds>(opts.now.time_since_epoch()).count();
      opts.ttl = std::chrono::seconds(std::max<int64_t>(1, g.expires_at - now));
    }
    JoinToken t;
    t.token = auth::mint_token(c, s_.api_secret, opts);
    t.expires_at = std::chrono::duration_cast<std::chrono::seconds>(
                       (opts.now + opts.ttl).time_since_epoch())
                       .count();
    return t;
  }

  void mute_track(const std::string& room, const std::string& identity,
                  const std::string& track_sid, bool muted) override {
    twirp("MutePublishedTrack", room,
          {{"room", room}, {"identity", identity}, {"trackSid", track_sid}, {"muted", muted}});
  }

  void remove_participant(const std::string& room, const std::string& identity) override {
    twirp("RemoveParticipant", room, {{"room", room}, {"identity", identity}});
  }

  RoomSummary create_room(const RoomOptions& o) override {
    json body = {{"name", o.name}};
    if (o.max_participants) body["maxParticipants"] = o.max_participants;
    if (o.empty_timeout) body["emptyTimeout"] = o.empty_timeout;
    if (o.departure_timeout) body["departureTimeout"] = o.departure_timeout;
    if (!o.metadata.empty()) body["metadata"] = o.metadata;
    auto r = twirp("CreateRoom", "", body, Grant::kCreate);
    return {r.value("name", o.name), r.value("numParticipants", 0u), r.value("metadata", "")};
  }

  void update_room_metadata(const std::string& room, const std::string& metadata) override {
    twirp("UpdateRoomMetadata", room, {{"room", room}, {"metadata", metadata}});
  }

  std::string start_room_recording(const std::string& room, const std::string& filepath) override {
    json body = {{"roomName", room},
                 {"fileOutputs", json::array({{{"fileType", "MP4"}, {"filepath", filepath}}})}};
    auto r = twirp("StartRoomCompositeEgress", "", body, Grant::kRecord, "livekit.Egress");
    std::string id = r.value("egressId", "");
    if (id.empty()) throw InternalError("StartRoomCompositeEgress answered no egressId");
    return id;
  }

  void stop_recording(const std::string& egress_id) override {
    try {
      twirp("StopEgress", "", {{"egressId", egress_id}}, Grant::kRecord, "livekit.Egress");
    } catch (const InternalError& e) {
      // Ended already (the room closed, or it failed): what we wanted. LiveKit answers
      // not_found for an unknown egress and failed_precondition for one no longer active.
      std::string m = e.what();
      if (m.find("not_found") == std::string::npos &&
          m.find("failed_precondition") == std::string::npos)
        throw;
    }
  }

  std::vector<RoomSummary> list_rooms() override {
    auto r = twirp("ListRooms", "", json::object(), Grant::kList);
    std::vector<RoomSummary> out;
    for (const auto& room : r.value("rooms", json::array())) {
      if (!room.is_object()) continue;
      RoomSummary s;
      s.name = room.value("name", "");
      s.num_participants = room.value("numParticipants", 0u);
      s.metadata = room.value("metadata", "");
      out.push_back(std::move(s));
    }
    return out;
  }

  void end_room(const std::string& room) override {
    try {
      twirp("DeleteRoom", "", {{"room", room}}, Grant::kCreate);
    } catch (const InternalError& e) {
      // Already gone is what we wanted.
      if (std::string(e.what()).find("not_found") == std::string::npos) throw;
    }
  }

  void send_data(const std::string& room, const std::string& payload,
                 const std::string& topic) override {
    twirp("SendData", room,
          {{"room", room},
           {"data", common::base64_encode(common::as_bytes(payload))},
           {"kind", "RELIABLE"},
           {"topic", topic}});
  }

  json list_participants(const std::string& room) override {
    auto r = twirp("ListParticipants", room, {{"room", room}});
    return r.value("participants", json::array());
  }

  json verify_webhook(const std::string& body, const std::string& header) override {
    auto claims = auth::verify_token(header, [&](const std::string& k) -> std::optional<std::string> {
      if (k == s_.api_key) return s_.api_secret;
      return std::nullopt;
    });
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
    auto expected = common::base64_encode({digest, sizeof(digest)});
    if (claims.sha256 != expected) throw Unauthenticated("webhook body hash does not match");
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw BadInput("webhook body is not a JSON object");
    return j;
  }

 private:
  // The one grant each call needs (LiveKit: roomAdmin for that room, roomCreate, roomList,
  // roomRecord for every Egress method).
  enum class Grant { kAdmin, kCreate, kList, kRecord };

  json twirp(const std::string& method, const std::string& room, const json& body,
             Grant grant = Grant::kAdmin, const std::string& service = "livekit.RoomService") {
    auth::ClaimGrants c;
    c.api_key = s_.api_key;
    auth::VideoGrant v;
    if (grant == Grant::kCreate) {
      v.room_create = true;
    } else if (grant == Grant::kList) {
      v.room_list = true;
    } else if (grant == Grant::kRecord) {
      v.room_record = true;
    } else {
      v.room_admin = true;
      v.room = room;
    }
    c.video = v;
    auth::MintOptions opts;
    opts.ttl = std::chrono::duration_cast<std::chrono::seconds>(kAdminTokenTtl);
    http::HttpClient client(s_.ca_file);
    auto res = client.request(
        "POST", http_base_ + "/twirp/" + service + "/" + method,
        {{"Content-Type", "application/json"},
         {"Authorization", "Bearer " + auth::mint_token(c, s_.api_secret, opts)}},
        body.dump(), std::chrono::seconds(10));
    if (res.status == 0) throw InternalError("media server unreachable: " + res.error);
    auto j = json::parse(res.body, nullptr, false);
    if (res.status != 200) {
      std::string code = j.is_object() ? j.value("code", "") : "";
      std::string msg = j.is_object() ? j.value("msg", res.body) : res.body;
      throw InternalError(method + " failed: " + code + " " + msg);
    }
    return j.is_object() ? j : json::object();
  }

  VideoSettings s_;
  std::string http_base_;
};

}  // namespace

std::unique_ptr<VideoProvider> make_livekit_provider(const VideoSettings& s) {
  if (s.url.empty() || s.api_key.empty() || s.api_secret.empty()) {
    throw BadInput("LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set");
  }
  return std::make_unique<LiveKitProvider>(s);
}

}  // namespace parlor::app
