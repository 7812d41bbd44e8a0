// AppServer's web-root check: only files under the web directory, by whole path components,
// with symlinks resolved.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "app/app_server.hpp"

namespace parlor::app {
namespace {

namespace fs = std::filesystem;

class WebRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("parlor-webroot-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(base_ / "web" / "assets");
    fs::create_directories(base_ / "web-evil");
    write(base_ / "web" / "index.html", "<html>");
    write(base_ / "web" / "assets" / "app.js", "js");
    write(base_ / "web-evil" / "secret.txt", "secret");
    write(base_ / "outside.txt", "outside");
    fs::create_symlink(base_ / "outside.txt", base_ / "web" / "link.txt");
    fs::create_symlink(base_ / "web-evil", base_ / "web" / "evil-dir");
  }
  void TearDown() override { fs::remove_all(base_); }
  static void write(const fs::path& p, const char* text) { std::ofstream(p) << text; }
  std::string web() const { return (base_ / "web").string(); }
  fs::path base_;
};

TEST_F(WebRoot, ServesFilesInside) {
  auto f = web_file(web(), "/assets/app.js");
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, fs::canonical(base_ / "web" / "assets" / "app.js"));
  EXPECT_TRUE(web_file(web(), "/index.html"));
  EXPECT_TRUE(web_file(web() + "/", "/index.html"));  // a trailing slash on the setting
}

TEST_F(WebRoot, RefusesASiblingWithTheSamePrefix) {
  // "/srv/web-evil" starts with the characters of "/srv/web" but is not inside it.
  EXPECT_FALSE(web_file(web(), "/../web-evil/secret.txt"));
  EXPECT_FALSE(web_file(web(), "/assets/../../web-evil/secret.txt"));
}

TEST_F(WebRoot, RefusesEscapesAbsolutePathsAndSymlinksOut) {
  EXPECT_FALSE(web_file(web(), "/../outside.txt"));
  EXPECT_FALSE(web_file(web(), "//" + (base_ / "outside.txt").string()));
  EXPECT_FALSE(web_file(web(), "/link.txt"));             // a symlink to a file outside
  EXPECT_FALSE(web_file(web(), "/evil-dir/secret.txt"));  // through a symlinked directory
  EXPECT_FALSE(web_file(web(), "/"));                     // the root itself is no file
  EXPECT_FALSE(web_file(web(), "/assets"));               // nor a directory
  EXPECT_FALSE(web_file(web(), "/missing.js"));
  EXPECT_FALSE(web_file((base_ / "nowhere").string(), "/index.html"));
}

TEST_F(WebRoot, AWebDirThatIsASymlinkIsResolvedFirst) {
  fs::create_symlink(base_ / "web", base_ / "web-link");
  EXPECT_TRUE(web_file((base_ / "web-link").string(), "/index.html"));
  EXPECT_FALSE(web_file((base_ / "web-link").string(), "/../web-evil/secret.txt"));
}

}  // namespace
}  // namespace parlor::app
