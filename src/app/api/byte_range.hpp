#pragma once
// HTTP Range requests for one resource (RFC 9110 §14): the single byte ranges a recording
// download serves. Pure; unit-tested in tests/unit/app/byte_range_test.cpp.
#include <cstdint>
#include <string>
#include <string_view>

namespace parlor::app {

struct ByteRange {
  enum class Kind {
    kWhole,          // no Range, another unit, or several ranges: send 200 with everything
    kPartial,        // send 206 with [first, last]
    kUnsatisfiable,  // send 416 with Content-Range: bytes */size
  };
  Kind kind = Kind::kWhole;
  uint64_t first = 0;
  uint64_t last = 0;        // inclusive
  bool open_ended = false;  // `bytes=a-`: the client asked for everything from `first`
  uint64_t length() const { return last - first + 1; }
};

// Interprets a Range header value against a resource of `size` bytes. Handles `bytes=a-b`,
// `bytes=a-` and `bytes=-n`; clamps `b` to the end. A malformed bytes range, a first byte at or
// past the end, or an empty suffix is unsatisfiable. Ranges in other units and multi-range
// requests are ignored (RFC 9110 §14.2 lets a server answer them with the whole resource).
ByteRange parse_byte_range(std::string_view header, uint64_t size);

// "bytes 0-99/1000" for a partial reply; "bytes */1000" for 416.
std::string content_range(const ByteRange& r, uint64_t size);

// The media type of a recording by its file extension (case-insensitive), e.g. ".mp4" ->
// "video/mp4"; application/octet-stream when unknown.
std::string media_type_for(std::string_view filename);

}  // namespace parlor::app
