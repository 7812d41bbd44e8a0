#include "common/encoding.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

namespace parlor::common {
namespace {

TEST(Encoding, Base64MatchesRfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, enc] : vectors) {
    EXPECT_EQ(base64_encode(as_bytes(plain)), enc);
    EXPECT_EQ(base64_decode(enc), plain);
  }
}

TEST(Encoding, Base64UrlAlphabetAndMissingPadding) {
  std::string bytes("\xfb\xff\xfe", 3);
  EXPECT_EQ(base64url_encode(as_bytes(bytes)), "-__-");
  EXPECT_EQ(base64_decode("-__-"), bytes);
  EXPECT_EQ(base64_decode("Zm8"), "fo");
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64_decode("Z"));
}

TEST(Encoding, UrlDecode) {
  EXPECT_EQ(url_decode("a%20b+c%2Fd"), "a b c/d");
  EXPECT_FALSE(url_decode("%"));
  EXPECT_FALSE(url_decode("%4"));
  EXPECT_FALSE(url_decode("%zz"));
}

TEST(Encoding, RandomIdsHaveLiveKitShape) {
  auto a = random_id("RM_"), b = random_id("RM_");
  EXPECT_EQ(a.size(), 15u);
  EXPECT_EQ(a.rfind("RM_", 0), 0u);
  EXPECT_NE(a, b);
}

std::string gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(Encoding, GunzipRoundTripAndLimits) {
  std::string text(100000, 'x');
  auto z = gzip(text);
  EXPECT_EQ(gunzip(z, 200000), text);
  EXPECT_FALSE(gunzip(z, 50000));                      // bomb guard
  EXPECT_FALSE(gunzip(z.substr(0, z.size() / 2), 1 << 20));  // truncated
  EXPECT_FALSE(gunzip("not gzip at all", 1 << 20));
}

}  // namespace
}  // namespace parlor::common
