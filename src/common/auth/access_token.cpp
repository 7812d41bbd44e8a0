#include "common/auth/access_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "common/encoding.hpp"
#include "common/errors.hpp"

namespace parlor::auth {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;

constexpr size_t kMaxTokenBytes = 16 * 1024;  // far above any real grant; bounds parsing work

std::string hmac_sha256(const std::string& key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return std::string(reinterpret_cast<char*>(out.data()), len);
}

bool get_bool(const json& j, const char* key, bool fallback = false) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::optional<bool> get_opt_bool(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

std::string get_string(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

Clock::time_point get_time(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return {};
  return Clock::time_point{std::chrono::seconds{it->get<int64_t>()}};
}

struct Parts {
  std::string_view header, payload, signature;
};

Parts split(const std::string& token) {
  if (token.empty()) throw Unauthenticated("no access token");
  if (token.size() > kMaxTokenBytes) throw Unauthenticated("access token too large");
  auto d1 = token.find('.');
  auto d2 = d1 == std::string::npos ? std::string::npos : token.find('.', d1 + 1);
  if (d2 == std::string::npos || token.find('.', d2 + 1) != std::string::npos) {
    throw Unauthenticated("malformed access token");
  }
  std::string_view t(token);
  return {t.substr(0, d1), t.substr(d1 + 1, d2 - d1 - 1), t.substr(d2 + 1)};
}

json decode_json_part(std::string_view part, const char* what) {
  auto raw = common::base64_decode(part);
  if (!raw) throw Unauthenticated(std::string("malformed access token ") + what);
  json j = json::parse(*raw, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw Unauthenticated(std::string("malformed access token ") + what);
  }
  return j;
}

}  // namespace

int track_source_from_name(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "camera") return 1;
  if (n == "microphone") return 2;
  if (n == "screen_share") return 3;
  if (n == "screen_share_audio") return 4;
  return -1;
}

json video_grant_to_json(const VideoGrant& g) {
  json j = json::object();
  auto put = [&](const char* k, bool v) {
    if (v) j[k] = true;
  };
  put("roomCreate", g.room_create);
  put("roomList", g.room_list);
  put("roomRecord", g.room_record);
  put("roomAdmin", g.room_admin);
  put("roomJoin", g.room_join);
  if (!g.room.empty()) j["room"] = g.room;
  if (g.can_publish) j["canPublish"] = *g.can_publish;
  if (g.can_subscribe) j["canSubscribe"] = *g.can_subscribe;
  if (g.can_publish_data) j["canPublishData"] = *g.can_publish_data;
  if (!g.can_publish_sources.empty()) j["canPublishSources"] = g.can_publish_sources;
  put("canUpdateOwnMetadata", g.can_update_own_metadata);
  put("ingressAdmin", g.ingress_admin);
  put("hidden", g.hidden);
  put("recorder", g.recorder);
  put("agent", g.agent);
  put("canSubscribeMetrics", g.can_subscribe_metrics);
  put("canManageAgentSession", g.can_manage_agent_session);
  if (!g.destination_room.empty()) j["destinationRoom"] = g.destination_room;
  return j;
}

VideoGrant video_grant_from_json(const json& j) {
  VideoGrant g;
  if (!j.is_object()) return g;
  g.room_create = get_bool(j, "roomCreate");
  g.room_list = get_bool(j, "roomList");
  g.room_record = get_bool(j, "roomRecord");
  g.room_admin = get_bool(j, "roomAdmin");
  g.room_join = get_bool(j, "roomJoin");
  g.room = get_string(j, "room");
  g.can_publish = get_opt_bool(j, "canPublish");
  g.can_subscribe = get_opt_bool(j, "canSubscribe");
  g.can_publish_data = get_opt_bool(j, "canPublishData");
  if (auto it = j.find("canPublishSources"); it != j.end() && it->is_array()) {
    for (const auto& s : *it) {
      if (s.is_string()) g.can_publish_sources.push_back(s.get<std::string>());
    }
  }
  g.can_update_own_metadata = get_bool(j, "canUpdateOwnMetadata");
  g.ingress_admin = get_bool(j, "ingressAdmin");
  g.hidden = get_bool(j, "hidden");
  g.recorder = get_bool(j, "recorder");
  g.agent = get_bool(j, "agent");
  g.can_subscribe_metrics = get_bool(j, "canSubscribeMetrics");
  g.can_manage_agent_session = get_bool(j, "canManageAgentSession");
  g.destination_room = get_string(j, "destinationRoom");
  return g;
}

std::optional<std::string> peek_issuer(const std::string& token) {
  try {
    auto parts = split(token);
    auto payload = decode_json_part(parts.payload, "payload");
    auto iss = get_string(payload, "iss");
    if (iss.empty()) return std::nullopt;
    return iss;
  } catch (const Unauthenticated&) {
    return std::nullopt;
  }
}

ClaimGrants verify_token(const std::string& token, const SecretLookup& secrets,
                         const VerifyOptions& options, Clock::time_point now) {
  auto parts = split(token);
  json header = decode_json_part(parts.header, "header");
  if (get_string(header, "alg") != "HS256") {
    throw Unauthenticated("unsupported token algorithm (only HS256 is accepted)");
  }
  json payload = decode_json_part(parts.payload, "payload");
  std::string iss = get_string(payload, "iss");
  if (iss.empty()) throw Unauthenticated("access token has no issuer (api key)");
  auto secret = secrets(iss);
  if (!secret) throw Unauthenticated("unknown API key");

  std::string signing_input(token.data(), parts.header.size() + 1 + parts.payload.size());
  std::string expected = hmac_sha256(*secret, signing_input);
  auto given = common::base64_decode(parts.signature);
  if (!given || given->size() != expected.size() ||
      CRYPTO_memcmp(given->data(), expected.data(), expected.size()) != 0) {
    throw Unauthenticated("invalid token signature");
  }

  ClaimGrants c;
  c.api_key = iss;
  c.identity = get_string(payload, "sub");
  if (c.identity.empty()) c.identity = get_string(payload, "jti");
  c.name = get_string(payload, "name");
  c.metadata = get_string(payload, "metadata");
  c.kind = get_string(payload, "kind");
  c.sha256 = get_string(payload, "sha256");
  c.not_before = get_time(payload, "nbf");
  c.expires_at = get_time(payload, "exp");
  if (auto it = payload.find("attributes"); it != payload.end() && it->is_object()) {
    for (auto& [k, v] : it->items()) {
      if (v.is_string()) c.attributes[k] = v.get<std::string>();
    }
  }
  if (auto it = payload.find("video"); it != payload.end() && it->is_object()) {
    c.video = video_grant_from_json(*it);
  }
  if (auto it = payload.find("roomConfig"); it != payload.end() && it->is_object()) {
    c.room_config_json = it->dump();
  }

  bool has_exp = payload.contains("exp");
  if (options.require_exp && !has_exp) throw Unauthenticated("access token has no expiry");
  if (has_exp && now > c.expires_at + options.leeway) {
    throw Unauthenticated("access token has expired");
  }
  if (payload.contains("nbf") && now + options.leeway < c.not_before) {
    throw Unauthenticated("access token is not valid yet");
  }
  return c;
}

std::string mint_token(const ClaimGrants& claims, const std::string& secret,
                       const MintOptions& options) {
  json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(options.now.time_since_epoch()).count();
  json payload = {{"iss", claims.api_key},
                  {"nbf", now_s},
                  {"iat", now_s},
                  {"exp", now_s + options.ttl.count()}};
  if (!claims.identity.empty()) payload["sub"] = claims.identity;
  if (!claims.name.empty()) payload["name"] = claims.name;
  if (!claims.metadata.empty()) payload["metadata"] = claims.metadata;
  if (!claims.kind.empty()) payload["kind"] = claims.kind;
  if (!claims.sha256.empty()) payload["sha256"] = claims.sha256;
  if (!claims.attributes.empty()) payload["attributes"] = claims.attributes;
  if (claims.video) payload["video"] = video_grant_to_json(*claims.video);
  std::string h = header.dump(), p = payload.dump();
  std::string input = common::base64url_encode(common::as_bytes(h)) + "." +
                      common::base64url_encode(common::as_bytes(p));
  std::string sig = hmac_sha256(secret, input);
  return input + "." + common::base64url_encode(common::as_bytes(sig));
}

}  // namespace parlor::auth
