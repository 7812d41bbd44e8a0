#pragma once
// Configuration of `parlor media`, the LiveKit way (STYLE.md §9): typed defaults in code, then a
// strict YAML file (LiveKit's key names; unknown keys rejected by name), then LIVEKIT_*
// environment variables, then command-line flags, then validation.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace parlor::config {

struct RtcConfig {
  uint16_t udp_port = 7882;        // first worker's UDP port; worker i uses udp_port + i
  uint16_t tcp_port = 7881;        // ICE-TCP
  uint16_t port_range_start = 0;   // alternative to udp_port: a range (0 = unused)
  uint16_t port_range_end = 0;
  std::string node_ip;             // advertised candidate address; empty = bind address
  bool use_external_ip = false;
  bool use_ice_lite = true;
  uint32_t workers = 0;            // media worker threads; 0 = one per core
  uint32_t consent_timeout_seconds = 30;  // RFC 7675 consent freshness
};

struct RoomConfig {
  bool auto_create = true;
  uint32_t empty_timeout = 300;      // seconds a created room waits for its first participant
  uint32_t departure_timeout = 20;   // seconds after the last participant leaves
  uint32_t max_participants = 0;     // 0 = unlimited
};

struct WebhookConfig {
  std::string api_key;               // key whose secret signs webhooks
  std::vector<std::string> urls;
  uint32_t queue_size = 1000;        // events buffered per URL before dropping
  uint32_t timeout_ms = 5000;
  uint32_t max_attempts = 5;
};

struct LimitConfig {
  uint32_t num_tracks = 0;                       // per participant; 0 = unlimited
  uint32_t max_metadata_size = 64000;            // bytes
  uint32_t max_attributes_size = 64000;
  uint32_t max_room_name_length = 256;
  uint32_t max_participant_identity_length = 256;
  uint32_t max_participant_name_length = 256;
  uint32_t max_rooms = 10000;
  uint32_t max_request_body_bytes = 1 << 20;     // Twirp and other HTTP bodies
  uint32_t max_ws_message_bytes = 1 << 20;       // signaling messages
  uint32_t max_data_packet_bytes = 65536;        // data channel messages
  uint32_t http_timeout_seconds = 30;            // read/idle timeout per HTTP request
};

struct LoggingConfig {
  std::string level = "info";  // trace, debug, info, warn, error
  bool json = false;
};

struct TurnConfig {
  bool enabled = false;
  std::string domain;
  uint16_t udp_port = 3478;
  uint16_t tls_port = 5349;
  std::string secret;  // TURN REST shared secret (coturn use-auth-secret)
};

struct MediaConfig {
  uint16_t port = 7880;
  std::vector<std::string> bind_addresses{"127.0.0.1"};
  std::map<std::string, std::string> keys;  // API key -> secret
  std::string key_file;
  bool development = false;
  std::string node_name = "parlor";
  RtcConfig rtc;
  RoomConfig room;
  WebhookConfig webhook;
  LimitConfig limit;
  LoggingConfig logging;
  TurnConfig turn;
};

// Overlays YAML text onto `config`. Throws parlor::BadInput naming the offending key.
void apply_yaml(MediaConfig& config, const std::string& yaml_text);
// Reads a "key: secret" list (one per line, YAML mapping) such as LIVEKIT_KEYS or a key_file.
std::map<std::string, std::string> parse_keys(const std::string& text);
// Applies LIVEKIT_* environment overrides read through `getenv`-like lookup.
void apply_env(MediaConfig& config, const std::map<std::string, std::string>& env);
// Development defaults: key devkey/secret, loopback bind (upstream `--dev`).
void apply_dev(MediaConfig& config);
// API secrets shorter than this are refused outside development mode.
constexpr size_t kMinSecretLength = 32;
// Throws parlor::BadInput with one clear line if the result is unusable.
void validate(const MediaConfig& config);

}  // namespace parlor::config
