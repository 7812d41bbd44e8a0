#pragma once
// Authorization of a signaling join (spec §2.2, §5.2), shared by `/rtc/validate`,
// `/rtc/v1/validate` and the WebSocket upgrades: token from `Authorization: Bearer` or the
// `access_token` query parameter, HS256 verification, roomJoin grant, identity and room rules,
// room existence when auto_create is off. Failures carry the exact HTTP status and short text
// the clients expect.
#include <optional>
#include <string>

#include "common/auth/access_token.hpp"
#include "common/config/media_config.hpp"
#include "common/http/http_types.hpp"
#include "service/room_manager.hpp"

namespace parlor::service {

struct JoinDecision {
  int status = 200;            // 200 = allowed
  std::string message;         // plain-text body for failures
  auth::ClaimGrants claims;    // valid when status == 200
  std::string room;            // from the token's video grant
};

class JoinAuthorizer {
 public:
  JoinAuthorizer(const config::MediaConfig& config, const RoomManager& rooms)
      : config_(config), rooms_(rooms) {}
  JoinDecision authorize(const http::Request& request) const;

 private:
  const config::MediaConfig& config_;
  const RoomManager& rooms_;
};

// Token from the Authorization header (Bearer) or `access_token`; throws parlor::Unauthenticated
// for a non-Bearer Authorization header; empty if none given.
std::string extract_token(const http::Request& request);

// Verifies with the configured keys.
auth::ClaimGrants verify_with_keys(const config::MediaConfig& config, const std::string& token);

}  // namespace parlor::service
