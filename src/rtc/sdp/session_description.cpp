#include "rtc/sdp/session_description.hpp"

#include <algorithm>
#include <charconv>

#include "common/errors.hpp"

namespace parlor::rtc {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::optional<long> to_number(std::string_view s) {
  long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

SdpAttribute parse_attribute(std::string_view v) {
  SdpAttribute a;
  auto colon = v.find(':');
  a.name = std::string(v.substr(0, colon));
  if (colon != std::string_view::npos) {
    a.value = std::string(v.substr(colon + 1));
    a.has_value = true;
  }
  return a;
}

void serialize_attributes(std::string& out, const std::vector<SdpAttribute>& attrs) {
  for (const auto& a : attrs) {
    out += "a=" + a.name;
    if (a.has_value) out += ":" + a.value;
    out += "\r\n";
  }
}

std::optional<std::string_view> find(const std::vector<SdpAttribute>& attrs, std::string_view name) {
  for (const auto& a : attrs) {
    if (a.name == name) return std::string_view(a.value);
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(SdpDirection d) {
  switch (d) {
    case SdpDirection::kSendRecv: return "sendrecv";
    case SdpDirection::kSendOnly: return "sendonly";
    case SdpDirection::kRecvOnly: return "recvonly";
    case SdpDirection::kInactive: return "inactive";
  }
  return "sendrecv";
}

std::string_view SdpCodec::fmtp_parameter(std::string_view key) const {
  for (auto p : split(fmtp, ';')) {
    auto b = p.find_first_not_of(' ');
    if (b == std::string_view::npos) continue;
    p = p.substr(b);
    auto eq = p.find('=');
    if (eq != std::string_view::npos && p.substr(0, eq) == key) return p.substr(eq + 1);
  }
  return {};
}

std::optional<int> SdpCodec::rtx_apt() const {
  auto apt = fmtp_parameter("apt");
  if (apt.empty()) return std::nullopt;
  if (auto v = to_number(apt)) return static_cast<int>(*v);
  return std::nullopt;
}

// ---- media section ----

std::optional<std::string_view> SdpMedia::attribute(std::string_view name) const { return find(attributes, name); }

std::vector<std::string_view> SdpMedia::attribute_values(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& a : attributes) {
    if (a.name == name) out.push_back(a.value);
  }
  return out;
}

bool SdpMedia::has_flag(std::string_view name) const {
  for (const auto& a : attributes) {
    if (a.name == name) return true;
  }
  return false;
}

void SdpMedia::add(std::string name, std::string value) {
  attributes.push_back({std::move(name), std::move(value), true});
}
void SdpMedia::add_flag(std::string name) { attributes.push_back({std::move(name), {}, false}); }
void SdpMedia::remove(std::string_view name) {
  std::erase_if(attributes, [&](const SdpAttribute& a) { return a.name == name; });
}

std::string SdpMedia::mid() const { return std::string(attribute("mid").value_or("")); }

SdpDirection SdpMedia::direction() const {
  for (const auto& a : attributes) {
    if (a.name == "sendonly") return SdpDirection::kSendOnly;
    if (a.name == "recvonly") return SdpDirection::kRecvOnly;
    if (a.name == "inactive") return SdpDirection::kInactive;
    if (a.name == "sendrecv") return SdpDirection::kSendRecv;
  }
  return SdpDirection::kSendRecv;
}

void SdpMedia::set_direction(SdpDirection d) {
  for (auto& a : attributes) {
    if (a.name == "sendonly" || a.name == "recvonly" || a.name == "inactive" || a.name == "sendrecv") {
      a.name = to_string(d);
      return;
    }
  }
  add_flag(to_string(d));
}

std::vector<SdpCodec> SdpMedia::codecs() const {
  std::vector<SdpCodec> out;
  for (const auto& f : formats) {
    auto pt = to_number(f);
    if (!pt) continue;
    SdpCodec c;
    c.payload_type = static_cast<int>(*pt);
    out.push_back(c);
  }
  auto by_pt = [&](std::string_view value, std::string_view* rest) -> SdpCodec* {
    auto space = value.find(' ');
    auto pt = to_number(value.substr(0, space));
    if (!pt) return nullptr;
    *rest = space == std::string_view::npos ? std::string_view{} : value.substr(space + 1);
    for (auto& c : out) {
      if (c.payload_type == *pt) return &c;
    }
    return nullptr;
  };
  for (const auto& a : attributes) {
    std::string_view rest;
    if (a.name == "rtpmap") {
      if (auto* c = by_pt(a.value, &rest)) {
        auto parts = split(rest, '/');
        if (!parts.empty()) c->name = std::string(parts[0]);
        if (parts.size() > 1) c->clock_rate = static_cast<int>(to_number(parts[1]).value_or(0));
        if (parts.size() > 2) c->channels = static_cast<int>(to_number(parts[2]).value_or(0));
      }
    } else if (a.name == "fmtp") {
      if (auto* c = by_pt(a.value, &rest)) c->fmtp = std::string(rest);
    } else if (a.name == "rtcp-fb") {
      if (a.value.rfind("* ", 0) == 0) {
        for (auto& c : out) c.feedback.push_back(a.value.substr(2));
      } else if (auto* c = by_pt(a.value, &rest)) {
        c->feedback.emplace_back(rest);
      }
    }
  }
  // Static payload types without rtpmap (RFC 3551): PCMU 0, PCMA 8, G722 9.
  for (auto& c : out) {
    if (!c.name.empty()) continue;
    if (c.payload_type == 0) c.name = "PCMU", c.clock_rate = 8000;
    if (c.payload_type == 8) c.name = "PCMA", c.clock_rate = 8000;
    if (c.payload_type == 9) c.name = "G722", c.clock_rate = 8000;
  }
  return out;
}

std::vector<SdpExtension> SdpMedia::extensions() const {
  std::vector<SdpExtension> out;
  for (auto v : attribute_values("extmap")) {
    auto space = v.find(' ');
    if (space == std::string_view::npos) continue;
    auto id_part = v.substr(0, space);
    SdpExtension e;
    auto slash = id_part.find('/');
    if (slash != std::string_view::npos) {
      e.direction = std::string(id_part.substr(slash + 1));
      id_part = id_part.substr(0, slash);
    }
    auto id = to_number(id_part);
    if (!id || *id < 1 || *id > 255) continue;
    e.id = static_cast<int>(*id);
    auto uri = v.substr(space + 1);
    e.uri = std::string(uri.substr(0, uri.find(' ')));
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<SdpRid> SdpMedia::rids() const {
  std::vector<SdpRid> out;
  for (auto v : attribute_values("rid")) {
    auto parts = split(v, ' ');
    if (parts.size() < 2) continue;
    SdpRid r{std::string(parts[0]), std::string(parts[1]), parts.size() > 2 ? std::string(parts[2]) : ""};
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> SdpMedia::simulcast_send() const {
  std::vector<std::string> out;
  auto v = attribute("simulcast");
  if (!v) return out;
  auto parts = split(*v, ' ');
  for (size_t i = 0; i + 1 < parts.size(); i += 2) {
    if (parts[i] != "send") continue;
    for (auto alt : split(parts[i + 1], ';')) out.emplace_back(alt.substr(0, alt.find(',')));
  }
  return out;
}

std::pair<std::string, std::string> SdpMedia::msid() const {
  auto v = attribute("msid");
  if (!v) return {};
  auto space = v->find(' ');
  if (space == std::string_view::npos) return {std::string(*v), ""};
  return {std::string(v->substr(0, space)), std::string(v->substr(space + 1))};
}

std::vector<uint32_t> SdpMedia::ssrcs() const {
  std::vector<uint32_t> out;
  for (auto v : attribute_values("ssrc")) {
    auto n = to_number(v.substr(0, v.find(' ')));
    if (!n || *n < 0 || *n > 0xFFFFFFFFL) continue;
    auto s = static_cast<uint32_t>(*n);
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

std::vector<std::pair<uint32_t, uint32_t>> SdpMedia::fid_groups() const {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (auto v : attribute_values("ssrc-group")) {
    auto parts = split(v, ' ');
    if (parts.size() == 3 && parts[0] == "FID") {
      auto a = to_number(parts[1]), b = to_number(parts[2]);
      if (a && b) out.emplace_back(static_cast<uint32_t>(*a), static_cast<uint32_t>(*b));
    }
  }
  return out;
}

// ---- session ----

std::optional<std::string_view> SessionDescription::attribute(std::string_view name) const {
  return find(attributes, name);
}

std::vector<std::string> SessionDescription::bundle_mids() const {
  for (const auto& a : attributes) {
    if (a.name == "group" && a.value.rfind("BUNDLE", 0) == 0) {
      std::vector<std::string> mids;
      auto parts = split(a.value, ' ');
      for (size_t i = 1; i < parts.size(); ++i) mids.emplace_back(parts[i]);
      return mids;
    }
  }
  return {};
}

bool SessionDescription::ice_lite() const {
  for (const auto& a : attributes) {
    if (a.name == "ice-lite") return true;
  }
  return false;
}

SessionDescription SessionDescription::parse(std::string_view text, const SdpLimits& limits) {
  if (text.size() > limits.max_bytes) {
    throw BadInput("SDP is larger than " + std::to_string(limits.max_bytes) + " bytes");
  }
  SessionDescription sd;
  size_t line_no = 0;
  bool saw_version = false;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto where = [&] { return "SDP line " + std::to_string(line_no); };
    if (line.size() > limits.max_line) throw BadInput(where() + " is too long");
    if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z') {
      throw BadInput(where() + " is not of the form <type>=<value>");
    }
    char type = line[0];
    auto value = line.substr(2);
    if (!saw_version) {
      if (type != 'v' || value != "0") throw BadInput("SDP must start with v=0");
      saw_version = true;
      continue;
    }
    if (type == 'm') {
      if (sd.media.size() >= limits.max_sections) throw BadInput("SDP has too many media sections");
      auto parts = split(value, ' ');
      if (parts.size() < 3) throw BadInput(where() + ": m= needs media, port and protocol");
      SdpMedia m;
      m.kind = std::string(parts[0]);
      auto port = to_number(parts[1].substr(0, parts[1].find('/')));
      if (!port || *port < 0 || *port > 65535) throw BadInput(where() + ": bad port");
      m.port = static_cast<uint16_t>(*port);
      m.proto = std::string(parts[2]);
      for (size_t i = 3; i < parts.size(); ++i) m.formats.emplace_back(parts[i]);
      sd.media.push_back(std::move(m));
      continue;
    }
    if (sd.media.empty()) {
      if (type == 'o') sd.origin = std::string(value);
      if (type == 's') sd.session_name = std::string(value);
      if (type == 'a') sd.attributes.push_back(parse_attribute(value));
      continue;  // t=, c=, b= at session level carry nothing we negotiate
    }
    auto& m = sd.media.back();
    if (type == 'c') m.connection = std::string(value);
    if (type == 'a') m.attributes.push_back(parse_attribute(value));
  }
  if (!saw_version) throw BadInput("SDP is empty");
  // ICE and DTLS parameters may sit at session level; resolve them per section.
  auto session = [&](std::string_view n) { return std::string(sd.attribute(n).value_or("")); };
  for (auto& m : sd.media) {
    m.ice_ufrag = std::string(m.attribute("ice-ufrag").value_or(session("ice-ufrag")));
    m.ice_pwd = std::string(m.attribute("ice-pwd").value_or(session("ice-pwd")));
    m.fingerprint = std::string(m.attribute("fingerprint").value_or(session("fingerprint")));
    m.setup = std::string(m.attribute("setup").value_or(session("setup")));
  }
  return sd;
}

std::string SessionDescription::serialize() const {
  std::string out = "v=0\r\no=" + origin + "\r\ns=" + session_name + "\r\nt=0 0\r\n";
  serialize_attributes(out, attributes);
  for (const auto& m : media) {
    out += "m=" + m.kind + " " + std::to_string(m.port) + " " + m.proto;
    for (const auto& f : m.formats) out += " " + f;
    out += "\r\nc=" + m.connection + "\r\n";
    serialize_attributes(out, m.attributes);
  }
  return out;
}

}  // namespace parlor::rtc
