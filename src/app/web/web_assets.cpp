#include "app/web/web_assets.hpp"

#include <cctype>

namespace parlor::app {

namespace {

constexpr std::string_view kIndex = "/index.html";
constexpr std::string_view kAssetsPrefix = "/assets/";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Calls fn(element) for each element of a comma-separated header list, trimmed, empty skipped.
template <typename Fn>
void for_each_element(std::string_view list, Fn fn) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (!item.empty()) fn(item);
  }
}

// RFC 9110 §12.4.2: a qvalue is 0 when it has no non-zero digit ("0", "0.0", "0.000").
bool refused(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (p.size() < 2 || std::tolower(static_cast<unsigned char>(p[0])) != 'q' || p[1] != '=')
      continue;
    std::string_view v = trim(p.substr(2));
    if (v.empty()) return false;
    for (char c : v) {
      if (c != '0' && c != '.') return false;
    }
    return true;
  }
  return false;
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  bool gzip = false, gzip_refused = false, any = false;
  for_each_element(accept_encoding, [&](std::string_view item) {
    size_t semi = item.find(';');
    std::string_view coding = trim(item.substr(0, semi));
    bool no = semi != std::string_view::npos && refused(item.substr(semi + 1));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      (no ? gzip_refused : gzip) = true;
    } else if (coding == "*" && !no) {
      any = true;
    }
  });
  return !gzip_refused && (gzip || any);
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  bool match = false;
  for_each_element(if_none_match, [&](std::string_view tag) {
    if (tag == "*") match = true;
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);  // weak comparison
    std::string_view ours = etag.substr(0, 2) == "W/" ? etag.substr(2) : etag;
    if (tag == ours) match = true;
  });
  return match;
}

std::string gzip_etag(std::string_view etag) {
  std::string out(etag);
  if (!out.empty() && out.back() == '"') {
    out.insert(out.size() - 1, "-gzip");
  } else {
    out += "-gzip";
  }
  return out;
}

WebAssets::WebAssets(std::span<const WebAsset> table) : table_(table) {
  by_path_.reserve(table.size());
  for (const auto& asset : table_) by_path_.emplace(asset.path, &asset);
}

size_t WebAssets::total_bytes() const {
  size_t n = 0;
  for (const auto& asset : table_) n += asset.body.size();
  return n;
}

const WebAsset* WebAssets::find(std::string_view path) const {
  auto it = by_path_.find(path);
  return it == by_path_.end() ? nullptr : it->second;
}

http::Response WebAssets::serve(const http::Request& req) const {
  std::string_view path = req.path;
  if (path.empty() || path == "/") path = kIndex;
  const WebAsset* asset = find(path);
  if (!asset) {
    if (path.substr(0, kAssetsPrefix.size()) == kAssetsPrefix) {
      return http::Response::text(404, "no such file in this build of the web UI");
    }
    asset = find(kIndex);
  }
  if (!asset) {
    return http::Response::text(
        404,
        "This parlor binary carries no web UI (it was built before `make web`); "
        "pass --web-dir DIR to serve one from disk. The API is under /api.");
  }
  bool immutable = asset->path.substr(0, kAssetsPrefix.size()) == kAssetsPrefix;
  bool gzip = !asset->gzip.empty() && accepts_gzip(req.header("accept-encoding"));
  std::string etag = gzip ? gzip_etag(asset->etag) : std::string(asset->etag);
  http::Response r;
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control",
                         std::string(immutable ? kImmutableCache : kRevalidateCache));
  if (!asset->gzip.empty()) r.headers.emplace_back("Vary", "Accept-Encoding");
  // The client's copy is current whichever encoding it holds: the content is the same.
  std::string inm = req.header("if-none-match");
  if (etag_matches(inm, asset->etag) ||
      (!asset->gzip.empty() && etag_matches(inm, gzip_etag(asset->etag)))) {
    r.status = 304;
    return r;
  }
  r.headers.emplace_back("Content-Type", std::string(asset->content_type));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (gzip) {
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.body.assign(asset->gzip);
  } else {
    r.body.assign(asset->body);
  }
  return r;
}

}  // namespace parlor::app
