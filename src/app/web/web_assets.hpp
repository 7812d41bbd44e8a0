#pragma once
// The web UI served from memory: the files of web/dist that the build embedded into the binary
// (tools/embed_web.cpp writes the table), answered with HTTP caching and compression.
//
//   * exact path match; "/" is /index.html; a path that is no file gets index.html (the single
//     page app's client-side routes), except under /assets/, where a missing file is a 404 (a
//     stale page asking for a chunk of an older build must not get HTML as JavaScript);
//   * ETag (a hash of the content) and If-None-Match -> 304 (RFC 9110 §13.1.2, weak compare);
//   * the gzip copy when the client accepts gzip (RFC 9110 §12.5.3), with Vary: Accept-Encoding
//     and its own ETag ("<tag>-gzip": a strong validator names one representation, and the
//     content coding is part of it, RFC 9110 §8.8.3); either tag revalidates;
//   * Cache-Control: Vite names everything under /assets/ by a hash of its content, so those are
//     cached for a year as immutable; everything else (index.html above all) is revalidated.
//
// Threading: immutable after construction; serve() may run on any thread.
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/http/http_types.hpp"

namespace parlor::app {

// One embedded file. The views point into static storage of the generated table.
struct WebAsset {
  std::string_view path;          // "/index.html", "/assets/index-o5gojXcZ.js"
  std::string_view content_type;  // "text/javascript"
  std::string_view etag;          // quoted, as sent: "\"6c1f0e...\""
  std::string_view body;
  std::string_view gzip;  // gzip (RFC 1952) of body; empty when that was not smaller
};

// `Cache-Control` for hashed assets (one year, RFC 8246 immutable) and for everything else.
inline constexpr std::string_view kImmutableCache = "public, max-age=31536000, immutable";
inline constexpr std::string_view kRevalidateCache = "no-cache";

class WebAssets {
 public:
  // `table` must outlive this object (the generated table is static).
  explicit WebAssets(std::span<const WebAsset> table);

  size_t size() const { return table_.size(); }
  size_t total_bytes() const;
  bool empty() const { return table_.empty(); }
  // Exact path match ("/index.html"); nullptr when absent.
  const WebAsset* find(std::string_view path) const;
  // The answer to a GET or HEAD of req.path (see the file comment).
  http::Response serve(const http::Request& req) const;

 private:
  std::span<const WebAsset> table_;
  std::unordered_map<std::string_view, const WebAsset*> by_path_;
};

// True when an Accept-Encoding value allows gzip: "gzip" or "x-gzip" or "*" with q > 0, and
// gzip not refused with q=0.
bool accepts_gzip(std::string_view accept_encoding);
// The ETag of the gzip representation: "abc" -> "abc-gzip".
std::string gzip_etag(std::string_view etag);
// True when an If-None-Match value names `etag` ("*", or a list, W/ prefixes ignored).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace parlor::app
