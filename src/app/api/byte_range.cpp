#include "app/api/byte_range.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>

namespace parlor::app {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A non-empty run of decimal digits (no sign, no spaces), or nullopt; overflow is nullopt.
std::optional<uint64_t> digits(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

ByteRange parse_byte_range(std::string_view header, uint64_t size) {
  ByteRange whole;
  ByteRange bad;
  bad.kind = ByteRange::Kind::kUnsatisfiable;
  header = trim(header);
  if (header.empty()) return whole;
  auto eq = header.find('=');
  if (eq == std::string_view::npos) return whole;
  std::string unit(trim(header.substr(0, eq)));
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (unit != "bytes") return whole;  // a unit we do not serve: ignore the header
  std::string_view spec = trim(header.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos) return whole;  // several ranges: send it all
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return bad;
  std::string_view a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
  ByteRange r;
  r.kind = ByteRange::Kind::kPartial;
  if (a.empty()) {  // bytes=-n: the last n bytes
    auto n = digits(b);
    if (!n || *n == 0 || size == 0) return bad;
    r.first = size - std::min(*n, size);
    r.last = size - 1;
    return r;
  }
  auto first = digits(a);
  if (!first || *first >= size) return bad;
  r.first = *first;
  if (b.empty()) {  // bytes=a-: to the end
    r.last = size - 1;
    r.open_ended = true;
    return r;
  }
  auto last = digits(b);
  if (!last || *last < *first) return bad;
  r.last = std::min(*last, size - 1);
  return r;
}

std::string content_range(const ByteRange& r, uint64_t size) {
  if (r.kind == ByteRange::Kind::kPartial) {
    return "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" +
           std::to_string(size);
  }
  return "bytes */" + std::to_string(size);
}

std::string media_type_for(std::string_view filename) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".mp4", "video/mp4"},
      {".m4v", "video/mp4"},
      {".m4a", "audio/mp4"},
      {".webm", "video/webm"},
      {".mkv", "video/x-matroska"},
      {".ogg", "audio/ogg"},
      {".oga", "audio/ogg"},
      {".opus", "audio/ogg"},
      {".ogv", "video/ogg"},
      {".mp3", "audio/mpeg"},
      {".wav", "audio/wav"},
      {".ts", "video/mp2t"},
      {".m3u8", "application/vnd.apple.mpegurl"},
      {".json", "application/json"},
  };
  auto dot = filename.rfind('.');
  auto slash = filename.find_last_of('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "application/octet-stream";
  }
  std::string ext(filename.substr(dot));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return type;
  }
  return "application/octet-stream";
}

}  // namespace parlor::app
