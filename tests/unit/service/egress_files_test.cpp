#include "service/egress_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "common/errors.hpp"

namespace parlor::service {
namespace {

namespace fs = std::filesystem;

FileTemplateValues values() {
  FileTemplateValues v;
  v.room_name = "visit-42";
  v.room_id = "RM_abc";
  v.track_id = "TR_xyz";
  v.track_source = "camera";
  v.track_type = "video";
  v.publisher_identity = "alice";
  v.unix_seconds = 1'700'000'000;  // 2023-11-14 22:13:20 UTC
  return v;
}

TEST(EgressFiles, ExpandsLiveKitsTemplates) {
  EXPECT_EQ(expand_template("{room_name}/{publisher_identity}-{track_source}-{track_type}-{track_id}-{room_id}",
                            values()),
            "visit-42/alice-camera-video-TR_xyz-RM_abc");
  EXPECT_EQ(expand_template("{utc}", values()), "20231114221320");
  EXPECT_EQ(expand_template("{time}", values()).size(), std::string("2023-11-14T221320").size());
  EXPECT_EQ(expand_template("{unknown}{room_name", values()), "{unknown}{room_name");
}

TEST(EgressFiles, SubstitutedValuesCannotAddDirectories) {
  auto v = values();
  v.publisher_identity = "../../etc/passwd";
  EXPECT_EQ(expand_template("{publisher_identity}", v), ".._.._etc_passwd");
  v.room_name = "..";
  EXPECT_EQ(expand_template("{room_name}", v), "_");
  EXPECT_EQ(output_relative_path("{room_name}/x", "d", ".mp4", v), fs::path("_/x.mp4"));
}

TEST(EgressFiles, DefaultNamesAndExtensions) {
  EXPECT_EQ(output_relative_path("", "{room_name}-{utc}", ".mp4", values()),
            fs::path("visit-42-20231114221320.mp4"));
  EXPECT_EQ(output_relative_path("visits/", "{room_name}-{utc}", ".mp4", values()),
            fs::path("visits/visit-42-20231114221320.mp4"));
  EXPECT_EQ(output_relative_path("a/b.mp4", "d", ".mp4", values()), fs::path("a/b.mp4"));
  EXPECT_EQ(output_relative_path("a/b", "d", ".webm", values()), fs::path("a/b.webm"));
  EXPECT_EQ(output_relative_path("./a//b.ogg", "d", ".ogg", values()), fs::path("a/b.ogg"));
}

TEST(EgressFiles, PathsThatLeaveTheDirectoryAreRefused) {
  for (const char* bad : {"/etc/x.mp4", "../x.mp4", "a/../../x.mp4", "a/..", "."}) {
    EXPECT_THROW(output_relative_path(bad, "d", ".mp4", values()), BadInput) << bad;
  }
  EXPECT_THROW(output_relative_path(std::string("a\0b", 3), "d", ".mp4", values()), BadInput);
}

class EgressFilesOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/parlor-egress-files-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(EgressFilesOnDisk, CreatesDirectoriesInside) {
  fs::path root = dir_ / "recordings";
  auto file = prepare_output(root, "a/b/c.mp4");
  EXPECT_EQ(file, root / "a/b/c.mp4");
  EXPECT_TRUE(fs::is_directory(root / "a/b"));
}

TEST_F(EgressFilesOnDisk, SymlinkOutOfTheDirectoryIsRefused) {
  fs::path root = dir_ / "recordings";
  fs::create_directories(root);
  fs::create_directories(dir_ / "outside");
  fs::create_directory_symlink(dir_ / "outside", root / "link");
  EXPECT_THROW(prepare_output(root, "link/x.mp4"), BadInput);
}

TEST_F(EgressFilesOnDisk, UnwritablePlaceIsAnInternalErrorWithTheReason) {
  fs::path root = dir_ / "recordings";
  fs::create_directories(root);
  std::ofstream(root / "blocked") << "a file where a directory should be";
  try {
    prepare_output(root, "blocked/x.mp4");
    FAIL() << "a directory was created under a file";
  } catch (const InternalError& e) {
    EXPECT_NE(std::string(e.what()).find("blocked"), std::string::npos);
  }
}

TEST(EgressFiles, RecordingsRootIsAbsolute) {
  EXPECT_TRUE(recordings_root("recordings").is_absolute());
  EXPECT_EQ(recordings_root("/srv/rec/../rec2"), fs::path("/srv/rec2"));
}

}  // namespace
}  // namespace parlor::service
