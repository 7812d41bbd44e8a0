#include "main/startup.hpp"

#include "service/media_server.hpp"

namespace parlor::cmd {

std::vector<std::string> media_startup_lines(const service::MediaServer& server) {
  const auto& c = server.config();
  const std::string& bind = c.bind_addresses.front();
  std::vector<std::string> lines;
  if (const auto* tls = server.tls()) {
    lines.push_back("listening https=" + bind + ":" + std::to_string(server.http_port()) +
                    " (LiveKit signalling wss:// /rtc, Twirp API /twirp/, camera check /echo/, "
                    "/metrics)");
    lines.push_back("tls: " + c.tls.cert_file + " (sha256 " + tls->fingerprint() +
                    "), reloaded when it changes; HSTS max-age " +
                    std::to_string(c.tls.hsts_max_age));
    if (auto warning = tls->key_permission_warning(); !warning.empty()) lines.push_back(warning);
  } else {
    lines.push_back("listening http=" + bind + ":" + std::to_string(server.http_port()) +
                    " (LiveKit signalling /rtc, Twirp API /twirp/, camera check /echo/, /metrics)");
  }
  std::string advertised = c.rtc.node_ip.empty() ? bind : c.rtc.node_ip;
  lines.push_back("listening udp=" + bind + ":" + std::to_string(server.udp_port()) +
                  " (WebRTC media: ICE, DTLS, SRTP; advertised as " + advertised + ")");
  if (c.webhook.urls.empty()) {
    lines.push_back("note: no webhook.urls: room and participant events go nowhere");
  }
  if (!c.turn.enabled) {
    lines.push_back(
        "note: TURN is off (turn.enabled): clients on networks that block UDP "
        "cannot connect");
  }
  if (c.development) {
    lines.push_back("note: development mode: API key 'devkey', secret 'secret'");
  }
  return lines;
}

void print_lines(std::ostream& out, const std::vector<std::string>& lines) {
  for (const auto& line : lines) out << line << "\n";
}

}  // namespace parlor::cmd
