#include "sfu/sdp_answer.hpp"

#include <boost/algorithm/string/predicate.hpp>

#include <algorithm>
#include <charconv>

#include "rtc/codecs/codecs.hpp"
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

namespace {
// H.264 with single-NAL-unit mode only (packetization-mode 0, the default) cannot carry what
// browsers send at video sizes; we receive and forward mode 1 only.
bool forwardable(const rtc::SdpCodec& c, bool video) {
  auto codec = rtc::codec_from_name(c.name);
  if (!video) return codec == rtc::Codec::kOpus;
  if (codec == rtc::Codec::kVp8) return true;
  return codec == rtc::Codec::kH264 && c.fmtp_parameter("packetization-mode") == "1";
}
}  // namespace

std::optional<rtc::SdpCodec> pick_codec(const rtc::SdpMedia& offered, rtc::Codec preferred) {
  if (offered.kind != "audio" && offered.kind != "video") return std::nullopt;
  const auto codecs = offered.codecs();
  const bool video = offered.kind == "video";
  for (const auto& c : codecs) {
    if (preferred != rtc::Codec::kUnknown && rtc::codec_from_name(c.name) == preferred && forwardable(c, video)) return c;
  }
  for (const auto& c : codecs) {
    if (forwardable(c, video)) return c;
  }
  return std::nullopt;
}

std::optional<rtc::SdpCodec> match_codec(const rtc::SdpMedia& offered, const rtc::SdpCodec& sent) {
  auto want = rtc::codec_from_name(sent.name);
  if (want == rtc::Codec::kUnknown) return std::nullopt;
  std::optional<rtc::SdpCodec> same_profile, any;
  const auto level_id = sent.fmtp_parameter("profile-level-id");
  for (const auto& c : offered.codecs()) {
    if (rtc::codec_from_name(c.name) != want || !forwardable(c, offered.kind == "video")) continue;
    if (want != rtc::Codec::kH264) return c;
    auto offered_id = c.fmtp_parameter("profile-level-id");
    if (boost::algorithm::iequals(offered_id, level_id)) return c;
    // profile_idc and profile-iop (the first four hex digits) name the profile; the rest the level.
    if (!same_profile && offered_id.size() == 6 && level_id.size() == 6 &&
        boost::algorithm::iequals(offered_id.substr(0, 4), level_id.substr(0, 4))) {
      same_profile = c;
    }
    if (!any) any = c;
  }
  return same_profile ? same_profile : any;
}

rtc::SdpCodec subscriber_codec(const rtc::SdpCodec& sent) {
  // One fixed configuration per payload type: inside a BUNDLE group a payload type must mean the
  // same codec and parameters in every section, whatever each publisher negotiated. Decoders
  // take any H.264 profile they support whatever was signalled.
  rtc::SdpCodec c;
  c.clock_rate = sent.clock_rate;
  switch (rtc::codec_from_name(sent.name)) {
    case rtc::Codec::kOpus:
      c.payload_type = 111;
      c.name = "opus";
      c.clock_rate = 48000;
      c.channels = 2;
      c.fmtp = "minptime=10;useinbandfec=1";
      break;
    case rtc::Codec::kH264:
      c.payload_type = 125;
      c.name = "H264";
      c.clock_rate = 90000;
      c.fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";
      break;
    default:
      c.payload_type = 96;
      c.name = "VP8";
      c.clock_rate = 90000;
      break;
  }
  return c;
}

std::optional<rtc::SdpCodec> find_rtx(const rtc::SdpMedia& offered, int apt) {
  for (const auto& c : offered.codecs()) {
    if (boost::algorithm::iequals(c.name, "rtx") && c.rtx_apt() == apt) return c;
  }
  return std::nullopt;
}

rtc::SdpCodec subscriber_rtx(const rtc::SdpCodec& media) {
  rtc::SdpCodec c;
  c.name = "rtx";
  c.clock_rate = 90000;
  c.payload_type = rtc::codec_from_name(media.name) == rtc::Codec::kH264 ? 107 : 97;
  c.fmtp = "apt=" + std::to_string(media.payload_type);
  return c;
}

void add_rtx(rtc::SdpMedia& a, const rtc::SdpCodec& rtx, int apt) {
  std::string pt = std::to_string(rtx.payload_type);
  a.formats.push_back(pt);
  a.add("rtpmap", pt + " rtx/" + std::to_string(rtx.clock_rate ? rtx.clock_rate : 90000));
  a.add("fmtp", pt + " apt=" + std::to_string(apt));
}

std::optional<rtc::SdpCodec> find_red(const rtc::SdpMedia& offered, int opus_payload_type) {
  const std::string opus = std::to_string(opus_payload_type);
  for (const auto& c : offered.codecs()) {
    if (!boost::algorithm::iequals(c.name, "red") || c.clock_rate != 48000) continue;
    // Every block of the redundancy is Opus: "111/111" (or more levels).
    std::string_view f = c.fmtp;
    bool all_opus = !f.empty();
    while (!f.empty() && all_opus) {
      auto slash = f.find('/');
      all_opus = f.substr(0, slash) == opus;
      f = slash == std::string_view::npos ? std::string_view{} : f.substr(slash + 1);
    }
    if (all_opus) return c;
  }
  return std::nullopt;
}

rtc::SdpCodec subscriber_red() {
  rtc::SdpCodec c;
  c.payload_type = 63;
  c.name = "red";
  c.clock_rate = 48000;
  c.channels = 2;
  c.fmtp = "111/111";
  return c;
}

void add_red(rtc::SdpMedia& a, const rtc::SdpCodec& red, int opus_payload_type) {
  std::string pt = std::to_string(red.payload_type);
  std::string opus = std::to_string(opus_payload_type);
  a.formats.insert(a.formats.begin(), pt);
  a.add("rtpmap", pt + " red/48000/2");
  a.add("fmtp", pt + " " + opus + "/" + opus);
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
