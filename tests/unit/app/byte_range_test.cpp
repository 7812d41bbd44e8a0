#include "app/api/byte_range.hpp"

#include <gtest/gtest.h>

namespace parlor::app {
namespace {

using Kind = ByteRange::Kind;

struct Case {
  const char* header;
  uint64_t size;
  Kind kind;
  uint64_t first, last;
};

TEST(ByteRange, SingleRangesAgainstA1000ByteFile) {
  const Case cases[] = {
      {"", 1000, Kind::kWhole, 0, 0},
      {"bytes=0-99", 1000, Kind::kPartial, 0, 99},
      {"bytes=100-", 1000, Kind::kPartial, 100, 999},
      {"bytes=-10", 1000, Kind::kPartial, 990, 999},
      {"bytes=-5000", 1000, Kind::kPartial, 0, 999},       // suffix longer than the file: all of it
      {"bytes=900-5000", 1000, Kind::kPartial, 900, 999},  // last byte clamped to the end
      {"bytes=999-999", 1000, Kind::kPartial, 999, 999},
      {" Bytes = 5 - 6 ", 1000, Kind::kPartial, 5, 6},
      {"bytes=1000-", 1000, Kind::kUnsatisfiable, 0, 0},  // first byte past the end
      {"bytes=1000-1001", 1000, Kind::kUnsatisfiable, 0, 0},
      {"bytes=-0", 1000, Kind::kUnsatisfiable, 0, 0},
      {"bytes=5-4", 1000, Kind::kUnsatisfiable, 0, 0},
      {"bytes=abc", 1000, Kind::kUnsatisfiable, 0, 0},
      {"bytes=-", 1000, Kind::kUnsatisfiable, 0, 0},
      {"bytes=+1-2", 1000, Kind::kUnsatisfiable, 0, 0},
      {"bytes=99999999999999999999-", 1000, Kind::kUnsatisfiable, 0, 0},
      {"bytes=0-", 0, Kind::kUnsatisfiable, 0, 0},  // nothing to send from an empty file
      {"bytes=-1", 0, Kind::kUnsatisfiable, 0, 0},
      {"items=0-5", 1000, Kind::kWhole, 0, 0},      // unknown unit: ignored
      {"bytes=0-1,5-6", 1000, Kind::kWhole, 0, 0},  // several ranges: whole file
      {"garbage", 1000, Kind::kWhole, 0, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    auto r = parse_byte_range(c.header, c.size);
    EXPECT_EQ(r.kind, c.kind);
    if (c.kind == Kind::kPartial) {
      EXPECT_EQ(r.first, c.first);
      EXPECT_EQ(r.last, c.last);
      EXPECT_EQ(r.length(), c.last - c.first + 1);
    }
  }
  EXPECT_TRUE(parse_byte_range("bytes=10-", 1000).open_ended);
  EXPECT_FALSE(parse_byte_range("bytes=10-20", 1000).open_ended);
}

TEST(ByteRange, ContentRangeHeaders) {
  EXPECT_EQ(content_range(parse_byte_range("bytes=0-99", 1000), 1000), "bytes 0-99/1000");
  EXPECT_EQ(content_range(parse_byte_range("bytes=-1", 1000), 1000), "bytes 999-999/1000");
  EXPECT_EQ(content_range(parse_byte_range("bytes=2000-", 1000), 1000), "bytes */1000");
}

TEST(ByteRange, MediaTypesByExtension) {
  EXPECT_EQ(media_type_for("visit-1.mp4"), "video/mp4");
  EXPECT_EQ(media_type_for("a/b/visit-1.WEBM"), "video/webm");
  EXPECT_EQ(media_type_for("audio.ogg"), "audio/ogg");
  EXPECT_EQ(media_type_for("audio.opus"), "audio/ogg");
  EXPECT_EQ(media_type_for("x.m4a"), "audio/mp4");
  EXPECT_EQ(media_type_for("noext"), "application/octet-stream");
  EXPECT_EQ(media_type_for("dir.mp4/file"), "application/octet-stream");
  EXPECT_EQ(media_type_for("x.exe"), "application/octet-stream");
}

}  // namespace
}  // namespace parlor::app
