#include "sfu/sdp_answer.hpp"

#include <algorithm>
#include <charconv>

#include "rtc/ice/ice_lite_agent.hpp"

namespace parlor::sfu {

namespace {
constexpr uint16_t kOurSctpPort = 5000;
constexpr size_t kDefaultPeerMaxMessage = 65536;  // RFC 8841 §6.1 when a=max-message-size is absent

template <typename T>
std::optional<T> number(std::string_view text) {
  T v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}
}  // namespace

rtc::SessionDescription begin_answer(const Worker& worker, uint64_t version) {
  rtc::SessionDescription answer;
  answer.origin = "- " + std::to_string(version) + " 2 IN IP4 " + worker.advertised_ip();
  answer.attributes.push_back({"ice-lite", "", false});
  answer.attributes.push_back({"msid-semantic", " WMS *", true});
  return answer;
}

rtc::SdpMedia rejected_section(const rtc::SdpMedia& offered) {
  rtc::SdpMedia a;
  a.kind = offered.kind;
  a.proto = offered.proto;
  a.add("mid", offered.mid());
  a.port = 0;
  a.formats = offered.formats.empty() ? std::vector<std::string>{"0"} : std::vector<std::string>{offered.formats[0]};
  a.add_flag("inactive");
  return a;
}

rtc::SdpMedia accepted_section(const rtc::SdpMedia& offered, const Worker& worker,
                               const rtc::WebRtcTransport& transport, bool with_candidate) {
  rtc::SdpMedia a;
  a.kind = offered.kind;
  a.proto = offered.proto;
  a.add("mid", offered.mid());
  a.port = worker.udp_port();
  a.connection = "IN IP4 " + worker.advertised_ip();
  a.add("ice-ufrag", transport.local_ice().ufrag);
  a.add("ice-pwd", transport.local_ice().pwd);
  a.add("ice-options", "trickle");
  a.add("fingerprint", "sha-256 " + worker.certificate().fingerprint());
  a.add("setup", "passive");
  if (offered.kind != "application") {
    a.add_flag("rtcp-mux");
    if (offered.has_flag("rtcp-rsize")) a.add_flag("rtcp-rsize");
  }
  if (with_candidate) {
    a.add("candidate", rtc::host_candidate(1, "udp", worker.advertised_ip(), worker.udp_port()));
    if (worker.tcp_port() != 0) {
      a.add("candidate", rtc::host_candidate(2, "tcp", worker.advertised_ip(), worker.tcp_port(), true));
    }
    a.add_flag("end-of-candidates");
  }
  return a;
}

std::optional<rtc::SdpCodec> pick_codec(const rtc::SdpMedia& offered) {
  if (offered.kind != "audio" && offered.kind != "video") return std::nullopt;
  const char* want = offered.kind == "audio" ? "opus" : "vp8";
  for (const auto& c : offered.codecs()) {
    std::string name = c.name;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (name == want) return c;
  }
  return std::nullopt;
}

void add_codec(rtc::SdpMedia& a, const rtc::SdpCodec& codec, bool transport_cc) {
  std::string pt = std::to_string(codec.payload_type);
  a.formats = {pt};
  std::string rtpmap = pt + " " + codec.name + "/" + std::to_string(codec.clock_rate);
  if (codec.channels) rtpmap += "/" + std::to_string(codec.channels);
  a.add("rtpmap", rtpmap);
  if (!codec.fmtp.empty()) a.add("fmtp", pt + " " + codec.fmtp);
  if (a.kind == "video") {
    for (const char* fb : {"nack", "nack pli", "ccm fir"}) a.add("rtcp-fb", pt + " " + fb);
  }
  if (transport_cc) a.add("rtcp-fb", pt + " transport-cc");
}

std::optional<SctpParams> add_sctp_attributes(const rtc::SdpMedia& offered, rtc::SdpMedia& answer,
                                              size_t our_max_message_size) {
  if (offered.kind != "application" || offered.proto.find("SCTP") == std::string::npos) return std::nullopt;
  SctpParams p;
  if (auto port = offered.attribute("sctp-port")) {
    auto v = number<uint16_t>(*port);
    if (!v) return std::nullopt;
    p.remote_port = *v;
  }
  size_t peer_max = kDefaultPeerMaxMessage;
  if (auto max = offered.attribute("max-message-size")) {
    auto v = number<size_t>(*max);
    if (v) peer_max = *v == 0 ? our_max_message_size : *v;  // 0 = "any size"
  }
  p.max_message_size = std::min(peer_max, our_max_message_size);
  answer.formats = {"webrtc-datachannel"};
  answer.add("sctp-port", std::to_string(kOurSctpPort));
  answer.add("max-message-size", std::to_string(our_max_message_size));
  return p;
}

}  // namespace parlor::sfu
