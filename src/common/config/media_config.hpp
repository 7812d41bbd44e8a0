#pragma once
// Configuration of `parlor media`, the LiveKit way (STYLE.md §9): typed defaults in code, then a
// strict YAML file (LiveKit's key names; unknown keys rejected by name), then LIVEKIT_*
// environment variables, then command-line flags, then validation.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace parlor::config {

// An external TURN server announced to clients (e.g. coturn): static credentials, or a
// `secret` shared with the server (coturn use-auth-secret) from which each participant gets its own.
struct ExternalTurnServer {
  std::string host;
  uint16_t port = 3478;
  std::string protocol = "udp";  // udp, tcp or tls
  std::string username, credential;
  std::string secret;
};

// Downstream congestion control (LiveKit's rtc.congestion_control): a send-side estimate per
// subscriber from its transport-cc feedback, and layers chosen to fit it (sfu/send_side_bwe.hpp,
// sfu/stream_allocator.hpp). Bitrates in bit/s.
struct CongestionControlConfig {
  bool enabled = true;
  bool allow_pause = true;             // pause a subscriber's video whose lowest layer does not fit
  uint64_t min_bitrate = 100'000;      // the estimate never goes below ...
  uint64_t max_bitrate = 10'000'000;   // ... nor above
  uint64_t initial_bitrate = 1'000'000;
  double raise_after = 3;              // seconds of headroom before a higher layer or a resume
  // How a subscriber held below its layer finds out that its path carries more: "padding"
  // (LiveKit's default: padding on the RTX stream, sfu/subscriber_congestion.hpp) or "none" (the
  // estimate only grows with the media sent). LiveKit's "media" is not implemented.
  std::string probe_mode = "padding";
};

// The most media workers a node runs (each takes a UDP port, an ICE-TCP port and a thread).
inline constexpr uint32_t kMaxWorkers = 256;

struct RtcConfig {
  uint16_t udp_port = 7882;        // first worker's UDP port; worker i uses udp_port + i
  uint16_t tcp_port = 7881;        // ICE-TCP (RFC 6544 passive candidate); 0 = off
  uint16_t port_range_start = 0;   // alternative to udp_port: a range (0 = unused)
  uint16_t port_range_end = 0;
  std::string node_ip;             // advertised candidate address; empty = bind address
  bool use_external_ip = false;
  bool use_ice_lite = true;
  uint32_t workers = 0;            // media worker threads; 0 = one per core (worker i: udp_port + i)
  // Seconds a transport may hear nothing from its peer while the participant's WebSocket is open
  // before it counts as failed (ICE consent freshness, RFC 7675 uses 30 s; browsers and
  // libwebrtc send a consent check at least every 2.5 s). The older key `consent_timeout` is
  // read as this one.
  double ice_consent_timeout_seconds = 10;
  // Seconds of silence from every transport of a participant whose WebSocket is gone before it
  // is removed at once (a dead process) instead of waiting out the resume window.
  double peer_silence_timeout_seconds = 3;
  std::vector<ExternalTurnServer> turn_servers;  // announced to clients beside our own TURN
  bool force_relay = false;  // clients use TURN only (JoinResponse client_configuration.force_relay)
  CongestionControlConfig congestion_control;
};

struct RoomConfig {
  bool auto_create = true;
  uint32_t empty_timeout = 300;      // seconds a created room waits for its first participant
  uint32_t departure_timeout = 20;   // seconds after the last participant leaves
  uint32_t max_participants = 0;     // 0 = unlimited
  // RoomService MutePublishedTrack{muted:false} also asks the client to unmute (LiveKit's key);
  // off, it only lifts the server mute and the participant unmutes itself.
  bool enable_remote_unmute = false;
};

struct WebhookConfig {
  std::string api_key;               // key whose secret signs webhooks
  std::vector<std::string> urls;
  uint32_t queue_size = 1000;        // events buffered per URL before dropping
  uint32_t timeout_ms = 5000;
  uint32_t max_attempts = 5;
  // Parlor: a file that keeps undelivered events across restarts (empty: memory only).
  std::string queue_file;
  // Parlor: PEM CA bundle trusted for https webhook URLs (a private CA or a self-signed app
  // certificate); empty = the system's CA store.
  std::string ca_file;
};

// Parlor: HTTPS and WSS on the main port (LiveKit itself has no such key; it expects a proxy).
// Both files set = TLS on; neither = plain HTTP.
struct TlsConfig {
  std::string cert_file;                 // PEM certificate chain
  std::string key_file;                  // PEM private key
  uint32_t hsts_max_age = 31536000;      // Strict-Transport-Security max-age (s); 0 = no header
  uint32_t reload_interval_ms = 5000;    // how often the files are checked for a change
  uint32_t handshake_timeout_seconds = 10;
  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// What one client can make the server hold or do. Every bound is enforced and counted in
// /metrics; LiveKit's key names where LiveKit has the key. Zero is refused by validate() for the
// per-participant bounds: a hostile participant must never meet an unlimited one.
struct LimitConfig {
  uint32_t num_tracks = 16;                      // per participant, pending AddTrackRequests included
  uint32_t max_track_name_length = 256;          // bytes of a track's name, stream and client id
  uint32_t max_track_layers = 4;                 // simulcast layers per AddTrackRequest
  uint32_t max_track_codecs = 4;                 // simulcast codecs per AddTrackRequest
  uint32_t max_metadata_size = 64000;            // bytes
  uint32_t max_attributes_size = 64000;          // bytes of keys + values, participant attributes
  uint32_t max_attributes_count = 64;            // participant attributes
  uint32_t max_room_name_length = 256;
  uint32_t max_participant_identity_length = 256;
  uint32_t max_participant_name_length = 256;
  uint32_t max_rooms = 10000;
  uint32_t subscription_limit_video = 100;       // video tracks one participant receives
  uint32_t subscription_limit_audio = 100;       // audio tracks one participant receives
  uint32_t max_track_permissions = 1000;         // entries of one subscription_permission request
  uint32_t max_request_body_bytes = 1 << 20;     // Twirp and other HTTP bodies
  uint32_t max_ws_message_bytes = 1 << 20;       // signaling messages
  uint32_t ws_send_queue_bytes = 16 << 20;       // unsent signaling bytes before the socket is closed
  uint32_t signal_messages_per_second = 50;      // sustained signaling rate per participant
  uint32_t signal_burst = 200;                   // messages above the rate before dropping starts
  uint32_t max_ws_connections_per_ip = 64;       // open signaling WebSockets from one address
  uint32_t max_ws_connections_per_room = 1000;   // open signaling WebSockets to one room
  uint32_t max_data_packet_bytes = 65536;        // data channel messages
  uint32_t data_packets_per_second = 200;        // per participant; excess dropped
  uint32_t data_bytes_per_second = 1 << 20;      // per participant; excess dropped
  uint32_t http_timeout_seconds = 30;            // read/idle timeout per HTTP request
  uint32_t max_ice_tcp_connections = 1024;       // open ICE-TCP connections per media worker
  uint32_t ice_tcp_send_buffer_bytes = 131072;   // queued output per ICE-TCP connection; excess dropped
};

struct LoggingConfig {
  std::string level = "info";  // trace, debug, info, warn, error
  bool json = false;
};

// TURN served by `parlor media` itself (LiveKit's embedded TURN): relays only to this node's
// media address. TLS needs cert_file and key_file, or external_tls (a load balancer terminates
// TLS and forwards plain TCP to tls_port).
struct TurnConfig {
  bool enabled = false;
  std::string domain;        // host name in the announced URLs (default: the advertised IP)
  uint16_t udp_port = 3478;  // TURN/UDP (0 = off)
  uint16_t tls_port = 5349;  // TURN/TLS (0 = off)
  std::string cert_file, key_file;
  bool external_tls = false;
  // Credential secret (the TURN REST scheme; empty = a random one per process). Give the same
  // secret to a coturn listed in rtc.turn_servers to share credentials.
  std::string secret;
  uint32_t credential_ttl_seconds = 43200;  // how long the credentials in a JoinResponse work
  uint32_t max_allocations = 1000;           // per media worker
};

// Parlor: server-side recording through LiveKit's Egress API (service/egress_service.hpp).
// LiveKit runs egress as a separate service with its own config; these keys are Parlor's.
// An S3-compatible bucket (LiveKit egress's `s3` storage keys): files of requests that name no
// storage of their own are uploaded there when `bucket` is set.
struct EgressS3Config {
  std::string access_key, secret, session_token;
  std::string region = "us-east-1";
  std::string endpoint;  // empty = AWS
  std::string bucket;
  bool force_path_style = false;
  // After a confirmed upload the local file is deleted (LiveKit's behaviour) unless this is set:
  // the app's tamper-evident manifest and playback need the file on local storage.
  bool keep_local = false;
};

struct EgressConfig {
  bool enabled = true;
  // Every file is written inside this directory (created when needed); a request's filepath is
  // relative to it and may not leave it.
  std::string recordings_dir = "recordings";
  uint32_t max_active = 16;     // egresses recording at once; more are refused (resource_exhausted)
  uint32_t max_finished = 1000;  // ended EgressInfos kept for ListEgress (oldest forgotten first)
  EgressS3Config s3;
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
  TlsConfig tls;
  EgressConfig egress;
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
// The tls section alone (also used for `parlor app`'s flags).
void validate_tls(const TlsConfig& tls);
// Throws BadInput unless udp_port + workers - 1 and tcp_port + workers - 1 are ports (the
// port plan: worker i listens on udp_port + i and tcp_port + i; 0 = ephemeral / off).
void check_worker_ports(const RtcConfig& rtc, uint32_t workers);

}  // namespace parlor::config
