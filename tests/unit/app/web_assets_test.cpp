// The embedded web UI: lookup, SPA fallback, ETag/304, the gzip choice and cache headers.
#include "app/web/web_assets.hpp"

#include <gtest/gtest.h>

#include "app/web/content_type.hpp"

namespace parlor::app {
namespace {

constexpr WebAsset kTable[] = {
    {"/index.html", "text/html; charset=utf-8", "\"idx-1\"", "<html>index</html>", "GZ-INDEX"},
    {"/assets/app-abc123.js", "text/javascript", "\"app-2\"", "console.log('app')", "GZ-APP"},
    {"/favicon.ico", "image/x-icon", "\"ico-3\"", "ICO", {}},
};

http::Request get(std::string path, std::map<std::string, std::string> headers = {}) {
  http::Request r;
  r.method = "GET";
  r.path = r.target = std::move(path);
  r.headers = std::move(headers);
  return r;
}

TEST(WebAssets, FindsExactPathsOnly) {
  WebAssets web(kTable);
  EXPECT_EQ(web.size(), 3u);
  EXPECT_EQ(web.total_bytes(), 18u + 18u + 3u);
  ASSERT_NE(web.find("/assets/app-abc123.js"), nullptr);
  EXPECT_EQ(web.find("/assets/app-abc123.js")->content_type, "text/javascript");
  EXPECT_EQ(web.find("assets/app-abc123.js"), nullptr);
  EXPECT_EQ(web.find("/assets/app-abc123.JS"), nullptr);
  EXPECT_EQ(web.find("/"), nullptr);
}

TEST(WebAssets, ServesIndexForRootAndClientRoutes) {
  WebAssets web(kTable);
  for (std::string path : {"/", "", "/index.html", "/visits/12", "/staff/console", "/a.b/c"}) {
    auto r = web.serve(get(path));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "<html>index</html>") << path;
    EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8") << path;
    EXPECT_EQ(r.header("Cache-Control"), "no-cache") << path;
    EXPECT_EQ(r.header("ETag"), "\"idx-1\"") << path;
  }
}

TEST(WebAssets, MissingHashedAssetIsNotFoundNotHtml) {
  WebAssets web(kTable);
  auto r = web.serve(get("/assets/app-old999.js"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("Cache-Control"), "");
}

TEST(WebAssets, HashedAssetsAreImmutableOthersRevalidate) {
  WebAssets web(kTable);
  auto js = web.serve(get("/assets/app-abc123.js"));
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log('app')");
  EXPECT_EQ(js.header("Cache-Control"), kImmutableCache);
  EXPECT_EQ(js.header("ETag"), "\"app-2\"");
  EXPECT_EQ(js.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(web.serve(get("/favicon.ico")).header("Cache-Control"), "no-cache");
}

TEST(WebAssets, IfNoneMatchGivesNotModified) {
  WebAssets web(kTable);
  for (std::string inm : {"\"app-2\"", "W/\"app-2\"", "\"other\", \"app-2\"", "*"}) {
    auto r = web.serve(get("/assets/app-abc123.js", {{"if-none-match", inm}}));
    EXPECT_EQ(r.status, 304) << inm;
    EXPECT_TRUE(r.body.empty()) << inm;
    EXPECT_EQ(r.header("ETag"), "\"app-2\"") << inm;
    EXPECT_EQ(r.header("Cache-Control"), kImmutableCache) << inm;
  }
  for (std::string inm : {"\"idx-1\"", "\"app-2-x\"", "app-2", ""}) {
    EXPECT_EQ(web.serve(get("/assets/app-abc123.js", {{"if-none-match", inm}})).status, 200) << inm;
  }
  // The gzip representation's tag revalidates too, and a gzip 304 carries it.
  auto z = web.serve(get("/assets/app-abc123.js",
                         {{"if-none-match", "\"app-2-gzip\""}, {"accept-encoding", "gzip"}}));
  EXPECT_EQ(z.status, 304);
  EXPECT_EQ(z.header("ETag"), "\"app-2-gzip\"");
  EXPECT_EQ(z.header("Vary"), "Accept-Encoding");
  // No gzip copy, no gzip tag.
  EXPECT_EQ(web.serve(get("/favicon.ico", {{"if-none-match", "\"ico-3-gzip\""}})).status, 200);
  // A client route revalidates against index.html's tag.
  EXPECT_EQ(web.serve(get("/visits/3", {{"if-none-match", "\"idx-1\""}})).status, 304);
}

TEST(WebAssets, GzipOnlyWhenAcceptedAndSmaller) {
  WebAssets web(kTable);
  auto plain = web.serve(get("/assets/app-abc123.js"));
  EXPECT_EQ(plain.header("Content-Encoding"), "");
  EXPECT_EQ(plain.header("Vary"), "Accept-Encoding");
  auto zipped = web.serve(get("/assets/app-abc123.js", {{"accept-encoding", "gzip, deflate, br"}}));
  EXPECT_EQ(zipped.header("Content-Encoding"), "gzip");
  EXPECT_EQ(zipped.body, "GZ-APP");
  EXPECT_EQ(zipped.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(zipped.header("Content-Type"), "text/javascript");
  EXPECT_EQ(zipped.header("ETag"), "\"app-2-gzip\"");
  EXPECT_EQ(plain.header("ETag"), "\"app-2\"");
  auto refused = web.serve(get("/assets/app-abc123.js", {{"accept-encoding", "gzip;q=0, br"}}));
  EXPECT_EQ(refused.header("Content-Encoding"), "");
  EXPECT_EQ(refused.body, "console.log('app')");
  // No smaller gzip copy: the plain bytes, and no Vary.
  auto ico = web.serve(get("/favicon.ico", {{"accept-encoding", "gzip"}}));
  EXPECT_EQ(ico.header("Content-Encoding"), "");
  EXPECT_EQ(ico.header("Vary"), "");
  EXPECT_EQ(ico.body, "ICO");
}

TEST(WebAssets, AcceptEncodingParsing) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("GZIP"));
  EXPECT_TRUE(accepts_gzip("deflate, gzip;q=0.5"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip("br, * ;q=0.1"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip; q=0.000"));
  EXPECT_FALSE(accepts_gzip("*, gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("gzipper"));
  EXPECT_TRUE(accepts_gzip("gzip;q=0.001"));
}

TEST(WebAssets, EmptyTableSaysSo) {
  WebAssets web({});
  EXPECT_TRUE(web.empty());
  auto r = web.serve(get("/"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("--web-dir"), std::string::npos);
}

TEST(WebAssets, GzipEtag) {
  EXPECT_EQ(gzip_etag("\"abc\""), "\"abc-gzip\"");
  EXPECT_EQ(gzip_etag("W/\"abc\""), "W/\"abc-gzip\"");
}

TEST(WebAssets, ContentTypes) {
  EXPECT_EQ(web_content_type(".js"), "text/javascript");
  EXPECT_EQ(web_content_type(".html"), "text/html; charset=utf-8");
  EXPECT_EQ(web_content_type(".woff2"), "font/woff2");
  EXPECT_EQ(web_content_type(""), "application/octet-stream");
}

}  // namespace
}  // namespace parlor::app
