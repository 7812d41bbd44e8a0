#include "common/config/media_config.hpp"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <set>

#include "common/errors.hpp"

namespace parlor::config {
namespace {

// A strict reader: every key of a mapping must be consumed by a handler, else it is rejected by
// its dotted path so the operator sees exactly which line is wrong.
class Section {
 public:
  Section(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      throw BadInput("config: '" + where() + "' must be a mapping");
    }
  }

  template <typename T>
  void read(const char* key, T& out) {
    seen_.insert(key);
    if (!node_ || !node_[key] || node_[key].IsNull()) return;
    try {
      out = node_[key].as<T>();
    } catch (const YAML::Exception&) {
      throw BadInput("config: '" + child(key) + "' has the wrong type");
    }
  }

  void section(const char* key, const std::function<void(Section&)>& fn) {
    seen_.insert(key);
    YAML::Node sub = node_ ? node_[key] : YAML::Node();
    Section s(sub, child(key));
    fn(s);
    s.finish();
  }

  YAML::Node raw(const char* key) {
    seen_.insert(key);
    return node_ ? node_[key] : YAML::Node();
  }

  void finish() const {
    if (!node_ || !node_.IsMap()) return;
    for (const auto& kv : node_) {
      auto k = kv.first.as<std::string>();
      if (!seen_.count(k)) throw BadInput("config: unknown key '" + child(k.c_str()) + "'");
    }
  }

  std::string child(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  std::string where() const { return path_.empty() ? "<root>" : path_; }

 private:
  YAML::Node node_;
  std::string path_;
  std::set<std::string> seen_;
};

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n\"'");
  auto e = s.find_last_not_of(" \t\r\n\"'");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

std::map<std::string, std::string> parse_keys(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find_first_of("\n,", start);
    std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? text.size() + 1 : end + 1;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) throw BadInput("keys: expected 'key: secret', got '" + line + "'");
    auto key = trim(line.substr(0, colon)), secret = trim(line.substr(colon + 1));
    if (key.empty() || secret.empty()) throw BadInput("keys: empty key or secret in '" + line + "'");
    out[key] = secret;
  }
  return out;
}

void apply_yaml(MediaConfig& c, const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw BadInput("config: invalid YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root || root.IsNull()) return;
  Section s(root, "");
  s.read("port", c.port);
  if (auto b = s.raw("bind_addresses"); b && !b.IsNull()) {
    try {
      c.bind_addresses = b.as<std::vector<std::string>>();
    } catch (const YAML::Exception&) {
      throw BadInput("config: 'bind_addresses' must be a list of addresses");
    }
  }
  if (auto k = s.raw("keys"); k && !k.IsNull()) {
    try {
      c.keys = k.as<std::map<std::string, std::string>>();
    } catch (const YAML::Exception&) {
      throw BadInput("config: 'keys' must map API keys to secrets");
    }
  }
  s.read("key_file", c.key_file);
  s.read("development", c.development);
  s.read("node_name", c.node_name);
  s.section("rtc", [&](Section& r) {
    r.read("udp_port", c.rtc.udp_port);
    r.read("tcp_port", c.rtc.tcp_port);
    r.read("port_range_start", c.rtc.port_range_start);
    r.read("port_range_end", c.rtc.port_range_end);
    r.read("node_ip", c.rtc.node_ip);
    r.read("use_external_ip", c.rtc.use_external_ip);
    r.read("use_ice_lite", c.rtc.use_ice_lite);
    r.read("workers", c.rtc.workers);
    r.read("consent_timeout", c.rtc.ice_consent_timeout_seconds);  // the older name
    r.read("ice_consent_timeout", c.rtc.ice_consent_timeout_seconds);
    r.read("peer_silence_timeout", c.rtc.peer_silence_timeout_seconds);
    r.read("force_relay", c.rtc.force_relay);
    r.section("congestion_control", [&](Section& cc) {
      auto& k = c.rtc.congestion_control;
      cc.read("enabled", k.enabled);
      cc.read("allow_pause", k.allow_pause);
      cc.read("min_bitrate", k.min_bitrate);
      cc.read("max_bitrate", k.max_bitrate);
      cc.read("initial_bitrate", k.initial_bitrate);
      cc.read("raise_after", k.raise_after);
      cc.read("probe_mode", k.probe_mode);
    });
    if (auto list = r.raw("turn_servers"); list && !list.IsNull()) {
      if (!list.IsSequence()) throw BadInput("config: 'rtc.turn_servers' must be a list");
      for (size_t i = 0; i < list.size(); ++i) {
        Section t(list[i], "rtc.turn_servers[" + std::to_string(i) + "]");
        ExternalTurnServer e;
        t.read("host", e.host);
        t.read("port", e.port);
        t.read("protocol", e.protocol);
        t.read("username", e.username);
        t.read("credential", e.credential);
        t.read("secret", e.secret);
        t.finish();
        if (e.host.empty()) throw BadInput("config: rtc.turn_servers[" + std::to_string(i) + "].host is required");
        if (e.protocol != "udp" && e.protocol != "tcp" && e.protocol != "tls")
          throw BadInput("config: rtc.turn_servers[" + std::to_string(i) + "].protocol must be udp, tcp or tls");
        c.rtc.turn_servers.push_back(std::move(e));
      }
    }
  });
  s.section("room", [&](Section& r) {
    r.read("auto_create", c.room.auto_create);
    r.read("empty_timeout", c.room.empty_timeout);
    r.read("departure_timeout", c.room.departure_timeout);
    r.read("max_participants", c.room.max_participants);
    r.read("enable_remote_unmute", c.room.enable_remote_unmute);
  });
  s.section("webhook", [&](Section& w) {
    w.read("api_key", c.webhook.api_key);
    w.read("urls", c.webhook.urls);
    w.read("queue_size", c.webhook.queue_size);
    w.read("timeout_ms", c.webhook.timeout_ms);
    w.read("max_attempts", c.webhook.max_attempts);
    w.read("queue_file", c.webhook.queue_file);
    w.read("ca_file", c.webhook.ca_file);
  });
  s.section("egress", [&](Section& e) {
    e.read("enabled", c.egress.enabled);
    e.read("recordings_dir", c.egress.recordings_dir);
    e.read("max_active", c.egress.max_active);
    e.read("max_finished", c.egress.max_finished);
    e.section("s3", [&](Section& s3) {
      s3.read("access_key", c.egress.s3.access_key);
      s3.read("secret", c.egress.s3.secret);
      s3.read("session_token", c.egress.s3.session_token);
      s3.read("region", c.egress.s3.region);
      s3.read("endpoint", c.egress.s3.endpoint);
      s3.read("bucket", c.egress.s3.bucket);
      s3.read("force_path_style", c.egress.s3.force_path_style);
      s3.read("keep_local", c.egress.s3.keep_local);
    });
  });
  s.section("tls", [&](Section& t) {
    t.read("cert_file", c.tls.cert_file);
    t.read("key_file", c.tls.key_file);
    t.read("hsts_max_age", c.tls.hsts_max_age);
    t.read("reload_interval_ms", c.tls.reload_interval_ms);
    t.read("handshake_timeout_seconds", c.tls.handshake_timeout_seconds);
  });
  s.section("limit", [&](Section& l) {
    l.read("num_tracks", c.limit.num_tracks);
    l.read("max_track_name_length", c.limit.max_track_name_length);
    l.read("max_track_layers", c.limit.max_track_layers);
    l.read("max_track_codecs", c.limit.max_track_codecs);
    l.read("max_metadata_size", c.limit.max_metadata_size);
    l.read("max_attributes_size", c.limit.max_attributes_size);
    l.read("max_attributes_count", c.limit.max_attributes_count);
    l.read("max_room_name_length", c.limit.max_room_name_length);
    l.read("max_participant_identity_length", c.limit.max_participant_identity_length);
    l.read("max_participant_name_length", c.limit.max_participant_name_length);
    l.read("max_rooms", c.limit.max_rooms);
    l.read("subscription_limit_video", c.limit.subscription_limit_video);
    l.read("subscription_limit_audio", c.limit.subscription_limit_audio);
    l.read("max_track_permissions", c.limit.max_track_permissions);
    l.read("max_request_body_bytes", c.limit.max_request_body_bytes);
    l.read("max_ws_message_bytes", c.limit.max_ws_message_bytes);
    l.read("ws_send_queue_bytes", c.limit.ws_send_queue_bytes);
    l.read("signal_messages_per_second", c.limit.signal_messages_per_second);
    l.read("signal_burst", c.limit.signal_burst);
    l.read("max_ws_connections_per_ip", c.limit.max_ws_connections_per_ip);
    l.read("max_ws_connections_per_room", c.limit.max_ws_connections_per_room);
    l.read("max_data_packet_bytes", c.limit.max_data_packet_bytes);
    l.read("data_packets_per_second", c.limit.data_packets_per_second);
    l.read("data_bytes_per_second", c.limit.data_bytes_per_second);
    l.read("http_timeout_seconds", c.limit.http_timeout_seconds);
    l.read("max_ice_tcp_connections", c.limit.max_ice_tcp_connections);
    l.read("ice_tcp_send_buffer_bytes", c.limit.ice_tcp_send_buffer_bytes);
  });
  s.section("logging", [&](Section& l) {
    l.read("level", c.logging.level);
    l.read("json", c.logging.json);
  });
  s.section("turn", [&](Section& t) {
    t.read("enabled", c.turn.enabled);
    t.read("domain", c.turn.domain);
    t.read("udp_port", c.turn.udp_port);
    t.read("tls_port", c.turn.tls_port);
    t.read("cert_file", c.turn.cert_file);
    t.read("key_file", c.turn.key_file);
    t.read("external_tls", c.turn.external_tls);
    t.read("secret", c.turn.secret);
    t.read("credential_ttl", c.turn.credential_ttl_seconds);
    t.read("max_allocations", c.turn.max_allocations);
    uint32_t ignored = 0;  // LiveKit's relay port range: Parlor's relayed addresses are virtual
    t.read("relay_range_start", ignored);
    t.read("relay_range_end", ignored);
  });
  s.finish();
}

void apply_env(MediaConfig& c, const std::map<std::string, std::string>& env) {
  auto get = [&](const char* k) -> const std::string* {
    auto it = env.find(k);
    return it == env.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (auto v = get("LIVEKIT_KEYS")) c.keys = parse_keys(*v);
  auto num = [](const std::string& v, const char* name) -> unsigned long {
    try {
      size_t used = 0;
      auto n = std::stoul(v, &used);
      if (used != v.size()) throw std::invalid_argument(v);
      return n;
    } catch (const std::exception&) {
      throw BadInput(std::string(name) + ": expected a number, got '" + v + "'");
    }
  };
  if (auto v = get("LIVEKIT_PORT")) c.port = static_cast<uint16_t>(num(*v, "LIVEKIT_PORT"));
  if (auto v = get("LIVEKIT_UDP_PORT")) c.rtc.udp_port = static_cast<uint16_t>(num(*v, "LIVEKIT_UDP_PORT"));
  if (auto v = get("LIVEKIT_NODE_IP")) c.rtc.node_ip = *v;
  if (auto v = get("PARLOR_RTC_WORKERS")) c.rtc.workers = static_cast<uint32_t>(num(*v, "PARLOR_RTC_WORKERS"));
  if (auto v = get("LIVEKIT_BIND_ADDRESSES")) c.bind_addresses = {*v};
  if (auto v = get("LIVEKIT_LOG_LEVEL")) c.logging.level = *v;
  if (auto v = get("PARLOR_TLS_CERT")) c.tls.cert_file = *v;
  if (auto v = get("PARLOR_TLS_KEY")) c.tls.key_file = *v;
}

void apply_dev(MediaConfig& c) {
  c.development = true;
  if (c.keys.empty()) c.keys = {{"devkey", "secret"}};
  c.bind_addresses = {"127.0.0.1"};
  c.rtc.node_ip = c.rtc.node_ip.empty() ? "127.0.0.1" : c.rtc.node_ip;
}

void validate_tls(const TlsConfig& t) {
  if (t.cert_file.empty() != t.key_file.empty()) {
    throw BadInput("config: tls needs both cert_file and key_file (or neither, for plain HTTP)");
  }
  if (t.reload_interval_ms < 100 || t.reload_interval_ms > 3600000) {
    throw BadInput("config: tls.reload_interval_ms must be from 100 to 3600000");
  }
  if (t.handshake_timeout_seconds < 1 || t.handshake_timeout_seconds > 300) {
    throw BadInput("config: tls.handshake_timeout_seconds must be from 1 to 300");
  }
}

void check_worker_ports(const RtcConfig& rtc, uint32_t workers) {
  const uint32_t last = workers == 0 ? 0 : workers - 1;
  if (rtc.udp_port != 0 && rtc.udp_port + last > 65535) {
    throw BadInput("config: rtc.udp_port + rtc.workers - 1 must be a port (worker i listens on udp_port + i)");
  }
  if (rtc.tcp_port != 0 && rtc.tcp_port + last > 65535) {
    throw BadInput("config: rtc.tcp_port + rtc.workers - 1 must be a port (worker i listens on tcp_port + i)");
  }
}

void validate(const MediaConfig& c) {
  if (c.keys.empty()) {
    throw BadInput("config: no API keys: set 'keys', 'key_file', LIVEKIT_KEYS or use --dev");
  }
  for (const auto& [k, s] : c.keys) {
    if (s.size() < kMinSecretLength && !c.development) {
      throw BadInput("config: keys: the secret for key '" + k + "' must be at least " +
                     std::to_string(kMinSecretLength) +
                     " characters (generate one with `openssl rand -base64 32`; --dev allows "
                     "development keys)");
    }
  }
  if (c.bind_addresses.empty()) throw BadInput("config: bind_addresses is empty");
  if ((c.rtc.port_range_start == 0) != (c.rtc.port_range_end == 0) ||
      c.rtc.port_range_end < c.rtc.port_range_start) {
    throw BadInput("config: rtc.port_range_start/port_range_end must both be set, start <= end");
  }
  // Worker i binds udp_port + i and tcp_port + i: every one must be a port. (0 = one per core,
  // known only at start: MediaServer checks those.)
  if (c.rtc.workers > kMaxWorkers) {
    throw BadInput("config: rtc.workers must be at most " + std::to_string(kMaxWorkers) + " (0 = one per core)");
  }
  check_worker_ports(c.rtc, c.rtc.workers);
  // Also refuses NaN; an hour is far beyond any useful value and keeps durations in range.
  constexpr double kMaxTimeoutSeconds = 3600;
  if (!(c.rtc.ice_consent_timeout_seconds > 0 && c.rtc.ice_consent_timeout_seconds <= kMaxTimeoutSeconds)) {
    throw BadInput("config: rtc.ice_consent_timeout must be greater than 0 (seconds, at most 3600)");
  }
  if (!(c.rtc.peer_silence_timeout_seconds > 0 && c.rtc.peer_silence_timeout_seconds <= kMaxTimeoutSeconds)) {
    throw BadInput("config: rtc.peer_silence_timeout must be greater than 0 (seconds, at most 3600)");
  }
  validate_tls(c.tls);
  if (c.turn.enabled && (c.turn.credential_ttl_seconds == 0 || c.turn.max_allocations == 0)) {
    throw BadInput("config: turn.credential_ttl and turn.max_allocations must be greater than zero");
  }
  if (c.turn.enabled && c.turn.cert_file.empty() != c.turn.key_file.empty()) {
    throw BadInput("config: turn.cert_file and turn.key_file go together");
  }
  const auto& cc = c.rtc.congestion_control;
  constexpr uint64_t kMinBitrateFloor = 10'000;          // below this not even audio fits
  constexpr uint64_t kMaxBitrateCeiling = 1'000'000'000;  // 1 Gbit/s: a typo, not a link
  if (cc.min_bitrate < kMinBitrateFloor || cc.max_bitrate > kMaxBitrateCeiling || cc.min_bitrate > cc.max_bitrate ||
      cc.initial_bitrate < cc.min_bitrate || cc.initial_bitrate > cc.max_bitrate) {
    throw BadInput("config: rtc.congestion_control needs 10000 <= min_bitrate <= initial_bitrate <= max_bitrate <= 1000000000 (bit/s)");
  }
  if (!(cc.raise_after >= 0 && cc.raise_after <= kMaxTimeoutSeconds)) {
    throw BadInput("config: rtc.congestion_control.raise_after must be between 0 and 3600 seconds");
  }
  if (cc.probe_mode != "padding" && cc.probe_mode != "none") {
    throw BadInput("config: rtc.congestion_control.probe_mode must be 'padding' or 'none' (got '" + cc.probe_mode + "')");
  }
  if (c.rtc.force_relay && !c.turn.enabled && c.rtc.turn_servers.empty()) {
    throw BadInput("config: rtc.force_relay needs TURN (turn.enabled or rtc.turn_servers)");
  }
  static const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error"};
  if (!kLevels.count(c.logging.level)) {
    throw BadInput("config: logging.level must be one of trace, debug, info, warn, error");
  }
  if (!c.webhook.urls.empty() && !c.webhook.api_key.empty() && !c.keys.count(c.webhook.api_key)) {
    throw BadInput("config: webhook.api_key '" + c.webhook.api_key + "' is not among the keys");
  }
  if (c.limit.max_request_body_bytes == 0 || c.limit.max_ws_message_bytes == 0) {
    throw BadInput("config: limit sizes must be greater than zero");
  }
  // Bounds a participant could otherwise grow without end: zero (LiveKit's "unlimited") is refused.
  const std::pair<const char*, uint32_t> bounded[] = {
      {"num_tracks", c.limit.num_tracks},
      {"max_track_name_length", c.limit.max_track_name_length},
      {"max_track_layers", c.limit.max_track_layers},
      {"max_track_codecs", c.limit.max_track_codecs},
      {"max_metadata_size", c.limit.max_metadata_size},
      {"max_attributes_size", c.limit.max_attributes_size},
      {"max_attributes_count", c.limit.max_attributes_count},
      {"subscription_limit_video", c.limit.subscription_limit_video},
      {"subscription_limit_audio", c.limit.subscription_limit_audio},
      {"max_track_permissions", c.limit.max_track_permissions},
      {"ws_send_queue_bytes", c.limit.ws_send_queue_bytes},
      {"signal_messages_per_second", c.limit.signal_messages_per_second},
      {"signal_burst", c.limit.signal_burst},
      {"max_ws_connections_per_ip", c.limit.max_ws_connections_per_ip},
      {"max_ws_connections_per_room", c.limit.max_ws_connections_per_room},
      {"max_data_packet_bytes", c.limit.max_data_packet_bytes},
      {"data_packets_per_second", c.limit.data_packets_per_second},
      {"data_bytes_per_second", c.limit.data_bytes_per_second},
      {"max_ice_tcp_connections", c.limit.max_ice_tcp_connections},
      {"ice_tcp_send_buffer_bytes", c.limit.ice_tcp_send_buffer_bytes},
  };
  for (const auto& [name, value] : bounded) {
    if (value == 0)
      throw BadInput(std::string("config: limit.") + name +
                     " must be greater than zero (no unlimited)");
  }
  if (c.egress.enabled && (c.egress.recordings_dir.empty() || c.egress.max_active == 0 ||
                           c.egress.max_finished == 0)) {
    throw BadInput(
        "config: egress.recordings_dir must be set and egress.max_active / max_finished must be "
        "greater than zero (egress.enabled: false turns recording off)");
  }
  if (c.limit.ws_send_queue_bytes < c.limit.max_ws_message_bytes) {
    throw BadInput("config: limit.ws_send_queue_bytes must be at least limit.max_ws_message_bytes");
  }
  if (c.limit.data_bytes_per_second < c.limit.max_data_packet_bytes) {
    throw BadInput(
        "config: limit.data_bytes_per_second must be at least limit.max_data_packet_bytes");
  }
}

}  // namespace parlor::config
