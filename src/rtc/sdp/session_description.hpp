#pragma once
// SDP (RFC 8866) with the attributes WebRTC uses (RFC 8829/8839/8843/8851/8853/8285/8841/4588).
// The model keeps every line in order, so parse → serialize preserves meaning (and unknown
// attributes), and offers typed readers for what an SFU negotiates. Answers and offers are built
// by filling a SessionDescription and serializing it (CRLF line ends).
//
// Control path: parse() throws parlor::BadInput naming the line for malformed input, and
// enforces size limits so hostile SDP costs bounded work.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parlor::rtc {

struct SdpAttribute {
  std::string name;   // "rtpmap", "mid", "recvonly", ...
  std::string value;  // text after the first ':' (empty for flags)
  bool has_value = false;
};

enum class SdpDirection { kSendRecv, kSendOnly, kRecvOnly, kInactive };
const char* to_string(SdpDirection d);

struct SdpCodec {
  int payload_type = -1;
  std::string name;      // "opus", "VP8", "H264", "rtx", "red"
  int clock_rate = 0;
  int channels = 0;      // 0 = not given
  std::string fmtp;      // parameters after "a=fmtp:<pt> "
  std::vector<std::string> feedback;  // "nack", "nack pli", "transport-cc", ...
  std::optional<int> rtx_apt() const;  // for rtx: the payload type it repairs
  // A parameter of the fmtp line ("1" for packetization-mode in "...;packetization-mode=1");
  // empty if absent.
  std::string_view fmtp_parameter(std::string_view key) const;
};

struct SdpExtension {
  int id = 0;
  std::string uri;
  std::string direction;  // optional "/sendonly" etc.
};

struct SdpRid {
  std::string id;
  std::string direction;  // "send" or "recv"
  std::string params;
};

struct SdpMedia {
  std::string kind;  // audio, video, application
  uint16_t port = 9;
  std::string proto;  // UDP/TLS/RTP/SAVPF, UDP/DTLS/SCTP
  std::vector<std::string> formats;
  std::string connection = "IN IP4 0.0.0.0";
  std::vector<SdpAttribute> attributes;

  std::optional<std::string_view> attribute(std::string_view name) const;
  std::vector<std::string_view> attribute_values(std::string_view name) const;
  bool has_flag(std::string_view name) const;
  void add(std::string name, std::string value = {});
  void add_flag(std::string name);
  void remove(std::string_view name);

  std::string mid() const;
  SdpDirection direction() const;
  void set_direction(SdpDirection d);
  std::vector<SdpCodec> codecs() const;
  std::vector<SdpExtension> extensions() const;
  std::vector<SdpRid> rids() const;
  // Rid order of "a=simulcast:send ..." (alternatives collapsed to the first, "~" paused kept).
  std::vector<std::string> simulcast_send() const;
  // a=msid: stream id and track id (either may be empty).
  std::pair<std::string, std::string> msid() const;
  std::vector<uint32_t> ssrcs() const;
  // Pairs (primary, rtx) from a=ssrc-group:FID.
  std::vector<std::pair<uint32_t, uint32_t>> fid_groups() const;
  // ICE/DTLS parameters of the section, falling back to the session level when absent.
  std::string ice_ufrag, ice_pwd, fingerprint, setup;  // filled by SessionDescription::parse
};

struct SdpLimits {
  size_t max_bytes = 64 * 1024;
  size_t max_sections = 64;
  size_t max_line = 4096;
};

class SessionDescription {
 public:
  static SessionDescription parse(std::string_view text, const SdpLimits& limits = {});
  std::string serialize() const;

  std::string origin = "- 0 0 IN IP4 127.0.0.1";
  std::string session_name = "-";
  std::vector<SdpAttribute> attributes;  // session-level a= lines
  std::vector<SdpMedia> media;

  std::optional<std::string_view> attribute(std::string_view name) const;
  std::vector<std::string> bundle_mids() const;
  bool ice_lite() const;
};

}  // namespace parlor::rtc
