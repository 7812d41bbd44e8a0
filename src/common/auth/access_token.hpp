#pragma once
// LiveKit access tokens (shared/spec/livekit-protocol.md §5): compact JWS, HS256 only.
// Verified on every signaling upgrade and Twirp call; minted for webhooks, refresh tokens and by
// the visitation app for join tokens.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace parlor::auth {

// The `video` grant. Optional fields stay unset when the token omits them, so that defaults
// (canPublish true, canPublishData = canPublish, ...) are applied where they are read.
struct VideoGrant {
  bool room_create = false;
  bool room_list = false;
  bool room_record = false;
  bool room_admin = false;
  bool room_join = false;
  std::string room;
  std::optional<bool> can_publish;
  std::optional<bool> can_subscribe;
  std::optional<bool> can_publish_data;
  std::vector<std::string> can_publish_sources;  // camera, microphone, screen_share, ...
  bool can_update_own_metadata = false;
  bool ingress_admin = false;
  bool hidden = false;
  bool recorder = false;
  bool agent = false;
  bool can_subscribe_metrics = false;
  bool can_manage_agent_session = false;
  std::string destination_room;

  bool effective_can_publish() const { return can_publish.value_or(true); }
  bool effective_can_subscribe() const { return can_subscribe.value_or(true); }
  bool effective_can_publish_data() const {
    return can_publish_data.value_or(effective_can_publish());
  }
};

struct ClaimGrants {
  std::string api_key;   // iss
  std::string identity;  // sub
  std::string name;
  std::string metadata;
  std::map<std::string, std::string> attributes;
  std::string kind;  // lowercase ParticipantInfo.Kind name; empty = standard
  std::string sha256;
  std::optional<VideoGrant> video;
  std::string room_config_json;  // `roomConfig` claim as JSON text, if present
  std::chrono::system_clock::time_point not_before{};
  std::chrono::system_clock::time_point expires_at{};
};

// Finds the secret for an API key; nullopt for unknown keys.
using SecretLookup = std::function<std::optional<std::string>(const std::string& api_key)>;

struct VerifyOptions {
  std::chrono::seconds leeway{60};  // clock skew allowed on nbf/exp, as LiveKit does
  bool require_exp = true;
};

// Verifies signature, issuer, exp and nbf, and parses the claims.
// Throws parlor::Unauthenticated with a short human message on any failure.
ClaimGrants verify_token(const std::string& token, const SecretLookup& secrets,
                         const VerifyOptions& options = {},
                         std::chrono::system_clock::time_point now =
                             std::chrono::system_clock::now());

// Reads `iss` without verifying anything (to pick the key); nullopt if unreadable.
std::optional<std::string> peek_issuer(const std::string& token);

struct MintOptions {
  std::chrono::seconds ttl{6 * 3600};  // Node AccessToken's default
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// Creates an HS256 token carrying `claims` (iss = claims.api_key).
std::string mint_token(const ClaimGrants& claims, const std::string& secret,
                       const MintOptions& options = {});

// JSON form of a video grant, as the SDKs write it (camelCase; unset fields omitted).
nlohmann::json video_grant_to_json(const VideoGrant& grant);
VideoGrant video_grant_from_json(const nlohmann::json& j);

// Maps a TrackSource name in a grant ("camera", "CAMERA", "screen_share", ...) to the
// livekit.TrackSource enum value; -1 if unknown.
int track_source_from_name(const std::string& name);

}  // namespace parlor::auth
