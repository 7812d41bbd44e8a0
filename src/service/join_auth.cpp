#include "service/join_auth.hpp"

#include "common/errors.hpp"
#include "service/twirp.hpp"

namespace parlor::service {

std::string extract_token(const http::Request& request) {
  std::string auth = request.header("authorization");
  if (!auth.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0) {
      throw Unauthenticated("invalid authorization header: must be 'Bearer <token>'");
    }
    return auth.substr(kBearer.size());
  }
  return request.query_param("access_token");
}

auth::ClaimGrants verify_with_keys(const config::MediaConfig& config, const std::string& token) {
  if (token.empty()) throw Unauthenticated("no access token");
  return auth::verify_token(token, [&](const std::string& key) -> std::optional<std::string> {
    auto it = config.keys.find(key);
    if (it == config.keys.end()) return std::nullopt;
    return it->second;
  });
}

JoinDecision JoinAuthorizer::authorize(const http::Request& request) const {
  JoinDecision d;
  try {
    d.claims = verify_with_keys(config_, extract_token(request));
  } catch (const Unauthenticated& e) {
    d.status = 401;
    d.message = e.what();
    return d;
  }
  const auto& video = d.claims.video;
  if (!video || !video->room_join) {
    d.status = 401;
    d.message = "permissions denied: token lacks the roomJoin grant";
    return d;
  }
  if (video->room.empty()) {
    d.status = 400;
    d.message = "token has no room";
    return d;
  }
  if (d.claims.identity.empty()) {
    d.status = 400;
    d.message = "token has no participant identity";
    return d;
  }
  if (d.claims.identity.size() > config_.limit.max_participant_identity_length) {
    d.status = 400;
    d.message = "participant identity is too long";
    return d;
  }
  if (d.claims.name.size() > config_.limit.max_participant_name_length) {
    d.status = 400;
    d.message = "participant name is too long";
    return d;
  }
  try {
    rooms_.check_room_name(video->room);
  } catch (const TwirpError& e) {
    d.status = 400;
    d.message = e.what();
    return d;
  }
  if (!config_.room.auto_create && !rooms_.find(video->room)) {
    d.status = 404;
    d.message = "requested room does not exist";
    return d;
  }
  d.room = video->room;
  return d;
}

}  // namespace parlor::service
