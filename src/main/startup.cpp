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
  const size_t workers = server.worker_count();
  auto of_workers = [workers](size_t i) {
    return workers > 1 ? "; media worker " + std::to_string(i) + " of " + std::to_string(workers) : std::string();
  };
  lines.push_back("listening udp=" + bind + ":" + std::to_string(server.udp_port()) +
                  " (WebRTC media: ICE, DTLS, SRTP; advertised as " + advertised + of_workers(0) + ")");
  auto ports = server.udp_ports();
  for (size_t i = 1; i < ports.size(); ++i) {
    lines.push_back("listening udp=" + bind + ":" + std::to_string(ports[i]) + " (WebRTC media" + of_workers(i) + ")");
  }
  if (server.tcp_port() != 0) {
    lines.push_back("listening tcp=" + bind + ":" + std::to_string(server.tcp_port()) +
                    " (WebRTC media over ICE-TCP for networks that block UDP" + of_workers(0) + ")");
    auto tcp = server.tcp_ports();
    for (size_t i = 1; i < tcp.size(); ++i) {
      if (tcp[i] != 0)
        lines.push_back("listening tcp=" + bind + ":" + std::to_string(tcp[i]) + " (ICE-TCP" + of_workers(i) + ")");
    }
  } else if (c.rtc.tcp_port == 0) {
    lines.push_back("note: ICE-TCP is off (rtc.tcp_port: 0): clients on networks that block UDP need TURN");
  } else {
    lines.push_back("warning: ICE-TCP is off: " + server.tcp_error());
  }
  if (c.webhook.urls.empty()) {
    lines.push_back("note: no webhook.urls: room and participant events go nowhere");
  }
  if (c.egress.enabled) {
    lines.push_back("recordings: " + server.egress().recordings_dir().string() +
                    " (Egress API /twirp/livekit.Egress/)");
  } else {
    lines.push_back("note: egress.enabled is false: the Egress API answers `unavailable`");
  }
  if (c.turn.enabled) {
    if (server.turn_udp_port() != 0) {
      lines.push_back("listening turn-udp=" + bind + ":" + std::to_string(server.turn_udp_port()) +
                      " (TURN relaying to this node's media addresses only)");
    }
    if (server.turn_tls_port() != 0) {
      lines.push_back("listening turn-tls=" + bind + ":" + std::to_string(server.turn_tls_port()) +
                      (c.turn.cert_file.empty() ? " (TURN over TCP; TLS terminated in front: turn.external_tls)"
                                                : " (TURN over TLS, for networks that allow only TLS)"));
    } else if (c.turn.tls_port != 0 && c.turn.cert_file.empty() && !c.turn.external_tls) {
      lines.push_back("note: TURN/TLS is off: no turn.cert_file / turn.key_file");
    }
    if (!server.turn_error().empty()) lines.push_back("warning: " + server.turn_error());
  } else if (c.rtc.turn_servers.empty()) {
    lines.push_back(
        "note: TURN is off (turn.enabled, rtc.turn_servers): clients on networks that allow "
        "neither UDP nor TCP to the media ports cannot connect");
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
