#include "main/startup.hpp"

#include "service/media_server.hpp"

namespace parlor::cmd {

std::vector<std::string> media_startup_lines(const service::MediaServer& server) {
  const auto& c = server.config();
  const std::string& bind = c.bind_addresses.front();
  std::vector<std::string> lines;
  lines.push_back("listening http=" + bind + ":" + std::to_string(server.http_port()) +
                  " (LiveKit signalling /rtc, Twirp API /twirp/, camera check /echo/, /metrics)");
  std::string advertised = c.rtc.node_ip.empty() ? bind : c.rtc.node_ip;
  lines.push_back("listening udp=" + bind + ":" + std::to_string(server.udp_port()) +
                  " (WebRTC media: ICE, DTLS, SRTP; advertised as " + advertised + ")");
  if (server.tcp_port() != 0) {
    lines.push_back("listening tcp=" + bind + ":" + std::to_string(server.tcp_port()) +
                    " (WebRTC media over ICE-TCP for networks that block UDP)");
  } else if (c.rtc.tcp_port == 0) {
    lines.push_back("note: ICE-TCP is off (rtc.tcp_port: 0): clients on networks that block UDP need TURN");
  } else {
    lines.push_back("warning: ICE-TCP is off: " + server.tcp_error());
  }
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
