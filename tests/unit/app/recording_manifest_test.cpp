// The recording manifest's hash chain and the verifier behind `parlor admin verify-recordings`
// (domain/recording_manifest.hpp), on real files in a temporary directory, and the manifest
// table (store/manifest_store.hpp) on SQLite.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "app/domain/recording_manifest.hpp"
#include "app/store/database.hpp"
#include "app/store/manifest_store.hpp"

namespace parlor::app {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("parlor-manifest-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

ManifestEntry recorded(long long id, const std::string& location, const FileDigest& d) {
  ManifestEntry e;
  e.kind = "recorded";
  e.recording_id = id;
  e.visit_id = 100 + id;
  e.egress_id = "EG_" + std::to_string(id);
  e.location = location;
  e.sha256 = d.sha256;
  e.size_bytes = static_cast<long long>(d.size);
  e.at = 1700000000 + id;
  return e;
}

// Two recordings on disk, chained.
struct Fixture {
  TempDir dir;
  std::vector<ManifestEntry> chain;
  Fixture() {
    write_file(dir.path() / "visit-1/a.mp4", std::string(200000, 'a') + "end");
    write_file(dir.path() / "visit-2/b.mp4", "second recording");
    auto a = hash_file(dir.path() / "visit-1/a.mp4");
    auto b = hash_file(dir.path() / "visit-2/b.mp4");
    chain.push_back(chain_after(recorded(1, "visit-1/a.mp4", *a), nullptr));
    // An absolute location inside the directory is as good as a relative one.
    chain.push_back(
        chain_after(recorded(2, (dir.path() / "visit-2/b.mp4").string(), *b), &chain.back()));
  }
  std::vector<ManifestProblem> verify() const {
    return verify_manifest(chain, [&](const std::string& loc) {
      return resolve_recording_file(dir.path().string(), loc);
    });
  }
};

TEST(RecordingManifest, HashesFilesInChunksLikeSha256) {
  TempDir dir;
  write_file(dir.path() / "abc", "abc");
  auto d = hash_file(dir.path() / "abc");
  ASSERT_TRUE(d);
  // FIPS 180-2 test vector.
  EXPECT_EQ(d->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(d->size, 3u);
  write_file(dir.path() / "big", std::string(1000000, 'a'));  // spans many chunks
  d = hash_file(dir.path() / "big");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->sha256, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(d->size, 1000000u);
  EXPECT_FALSE(hash_file(dir.path() / "absent"));
}

TEST(RecordingManifest, ChainLinksEachEntryToTheOneBefore) {
  Fixture f;
  EXPECT_EQ(f.chain[0].seq, 1);
  EXPECT_EQ(f.chain[0].prev_entry_hash, kManifestGenesis);
  EXPECT_EQ(f.chain[1].seq, 2);
  EXPECT_EQ(f.chain[1].prev_entry_hash, f.chain[0].entry_hash);
  EXPECT_EQ(f.chain[1].entry_hash.size(), 64u);
  EXPECT_TRUE(f.verify().empty());
}

TEST(RecordingManifest, VerifyNamesAFileWithOneChangedByte) {
  Fixture f;
  {
    std::fstream io(f.dir.path() / "visit-1/a.mp4", std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(100000);
    io.put('b');
  }
  auto problems = f.verify();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].recording_id, 1);
  EXPECT_EQ(problems[0].location, "visit-1/a.mp4");
  EXPECT_NE(problems[0].what.find("file changed"), std::string::npos) << problems[0].what;
}

TEST(RecordingManifest, VerifyNamesAMissingFile) {
  Fixture f;
  fs::remove(f.dir.path() / "visit-2/b.mp4");
  auto problems = f.verify();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].recording_id, 2);
  EXPECT_EQ(problems[0].what, "file missing");
}

TEST(RecordingManifest, ADeletionEntryMeansTheFileIsNotMissing) {
  Fixture f;
  fs::remove(f.dir.path() / "visit-2/b.mp4");
  ManifestEntry del;
  del.kind = "deleted";
  del.recording_id = 2;
  del.visit_id = 102;
  del.location = f.chain[1].location;
  del.at = 1800000000;
  f.chain.push_back(chain_after(del, &f.chain.back()));
  EXPECT_TRUE(f.verify().empty());
}

TEST(RecordingManifest, VerifyFindsEditedRemovedAndForgedEntries) {
  {
    Fixture f;  // a stored hash edited to match a replaced file
    f.chain[0].sha256 = std::string(64, 'f');
    auto problems = f.verify();
    ASSERT_FALSE(problems.empty());
    EXPECT_NE(problems[0].what.find("broken chain link"), std::string::npos);
  }
  {
    Fixture f;  // the first entry removed: the second no longer follows anything
    f.chain.erase(f.chain.begin());
    auto problems = f.verify();
    ASSERT_FALSE(problems.empty());
    EXPECT_EQ(problems[0].seq, 2);
    EXPECT_NE(problems[0].what.find("broken chain link"), std::string::npos);
  }
  {
    Fixture f;  // a forged "deleted" entry appended without the right link
    ManifestEntry del;
    del.kind = "deleted";
    del.recording_id = 1;
    del.seq = 3;
    del.prev_entry_hash = std::string(64, '0');
    del.entry_hash = manifest_entry_hash(del);
    f.chain.push_back(del);
    auto problems = f.verify();
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].seq, 3);
  }
}

TEST(RecordingManifest, FilesOutsideTheRecordingsDirectoryAreNeverResolved) {
  TempDir dir;
  write_file(dir.path() / "rec/visit-1/a.mp4", "x");
  write_file(dir.path() / "rec-evil/a.mp4", "x");
  std::string root = (dir.path() / "rec").string();
  EXPECT_TRUE(resolve_recording_file(root, "visit-1/a.mp4"));
  EXPECT_TRUE(resolve_recording_file(root, (dir.path() / "rec/visit-1/a.mp4").string()));
  EXPECT_FALSE(resolve_recording_file(root, "../rec-evil/a.mp4"));
  EXPECT_FALSE(resolve_recording_file(root, (dir.path() / "rec-evil/a.mp4").string()));
  EXPECT_FALSE(resolve_recording_file(root, "s3://bucket/a.mp4"));
  EXPECT_FALSE(resolve_recording_file(root, "visit-1"));  // a directory
  EXPECT_FALSE(resolve_recording_file("", "visit-1/a.mp4"));
}

TEST(ManifestStore, AppendsOneChainInTheDatabase) {
  Database db(":memory:");
  EXPECT_TRUE(load_manifest(db).empty());
  FileDigest d{std::string(64, 'a'), 10};
  auto first = append_manifest(db, recorded(1, "visit-1/a.mp4", d));
  auto second = db.transaction([&] { return append_manifest(db, recorded(2, "visit-2/b.mp4", d)); });
  EXPECT_EQ(first.seq, 1);
  EXPECT_EQ(second.seq, 2);
  EXPECT_EQ(second.prev_entry_hash, first.entry_hash);
  auto loaded = load_manifest(db);
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[1].entry_hash, second.entry_hash);
  EXPECT_EQ(loaded[1].location, "visit-2/b.mp4");
  EXPECT_EQ(manifest_entry_hash(loaded[0]), loaded[0].entry_hash);
  // The chain as stored verifies, files aside.
  auto problems = verify_manifest(loaded, [](const std::string&) { return std::nullopt; });
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].what, "file missing");
}

}  // namespace
}  // namespace parlor::app
