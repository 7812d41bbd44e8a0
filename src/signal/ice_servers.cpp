#include "signal/ice_servers.hpp"

#include <string>

#include "rtc/turn/turn_server.hpp"

namespace parlor::signal {

namespace {

std::string host_part(std::string_view host) {
  std::string h(host);
  if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";  // an IPv6 literal
  return h;
}

void add(google::protobuf::RepeatedPtrField<livekit::ICEServer>& out, std::string url,
         const rtc::TurnCredentials& credentials) {
  auto* s = out.Add();
  s->add_urls(std::move(url));
  s->set_username(credentials.username);
  s->set_credential(credentials.password);
}

}  // namespace

void fill_ice_servers(const config::MediaConfig& config, const TurnListeners& listeners,
                      std::string_view participant, int64_t now_unix,
                      google::protobuf::RepeatedPtrField<livekit::ICEServer>& out) {
  const int64_t expires = now_unix + config.turn.credential_ttl_seconds;
  if (config.turn.enabled && (listeners.udp_port || listeners.tls_port)) {
    auto credentials = rtc::make_turn_credentials(config.turn.secret, participant, expires);
    std::string host = host_part(config.turn.domain.empty() ? listeners.advertised_ip : config.turn.domain);
    if (listeners.udp_port) {
      add(out, "turn:" + host + ":" + std::to_string(listeners.udp_port) + "?transport=udp", credentials);
    }
    if (listeners.tls_port) {
      add(out, "turns:" + host + ":" + std::to_string(listeners.tls_port) + "?transport=tcp", credentials);
    }
  }
  for (const auto& e : config.rtc.turn_servers) {
    rtc::TurnCredentials credentials{e.username, e.credential};
    if (!e.secret.empty()) credentials = rtc::make_turn_credentials(e.secret, participant, expires);
    std::string scheme = e.protocol == "tls" ? "turns:" : "turn:";
    std::string transport = e.protocol == "udp" ? "udp" : "tcp";
    add(out, scheme + host_part(e.host) + ":" + std::to_string(e.port) + "?transport=" + transport, credentials);
  }
}

void fill_client_configuration(const config::MediaConfig& config, livekit::ClientConfiguration& out) {
  if (config.rtc.force_relay) out.set_force_relay(livekit::ClientConfigSetting::ENABLED);
}

}  // namespace parlor::signal
