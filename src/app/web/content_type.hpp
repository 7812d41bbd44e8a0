#pragma once
// The Content-Type the web UI's files are served with, by file name extension. Header-only:
// the build-time embedding tool (tools/embed_web.cpp) and the disk path of AppServer share it.
#include <string_view>

namespace parlor::app {

inline std::string_view web_content_type(std::string_view extension) {
  struct Type {
    std::string_view extension, type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript"},
      {".mjs", "text/javascript"},
      {".css", "text/css"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".map", "application/json"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
  };
  for (const auto& t : kTypes) {
    if (t.extension == extension) return t.type;
  }
  return "application/octet-stream";
}

}  // namespace parlor::app
