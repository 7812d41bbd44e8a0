#pragma once
// The tamper-evident recording manifest (docs/recording.md, "In the app"): one hash chain over
// every stored recording and every deletion. Entry n's hash covers entry n-1's hash and all of
// entry n's fields, so changing, removing or reordering any entry breaks every link after it;
// the file's SHA-256 in the entry makes a changed or missing file visible. A deletion by
// retention is an entry of its own ("deleted"), so it is itself protected by the chain and the
// verifier does not report a deleted recording as missing.
//
// Pure logic and file hashing, no storage (store/manifest_store.hpp reads and appends the
// table); unit-tested.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace parlor::app {

struct FileDigest {
  std::string sha256;  // lowercase hex
  uint64_t size = 0;
};

// SHA-256 and size of a file, read in fixed-size chunks (a recording never sits in memory);
// nullopt when it cannot be opened or read.
std::optional<FileDigest> hash_file(const std::filesystem::path& path);

// The file a recording's stored location names inside the recordings directory `root`: a
// relative location resolves inside it, an absolute one must lie inside it; symlinks are
// followed and anything that ends up outside (or is not a regular file) is nullopt.
std::optional<std::filesystem::path> resolve_recording_file(const std::string& root,
                                                            const std::string& location);

struct ManifestEntry {
  long long seq = 0;        // 1, 2, 3, ... with no gaps
  std::string kind;         // "recorded" | "deleted"
  long long recording_id = 0, visit_id = 0;
  std::string egress_id, location, sha256;
  long long size_bytes = 0;
  long long at = 0;         // Unix seconds the entry was made
  std::string prev_entry_hash, entry_hash;  // lowercase hex
};

// The prev_entry_hash of the first entry.
inline const std::string kManifestGenesis(64, '0');

// SHA-256(prev_entry_hash || the entry's fields), each field length-prefixed so that no two
// different entries encode alike. entry_hash itself is not an input.
std::string manifest_entry_hash(const ManifestEntry& e);

// Makes `e` the entry after `prev` (nullptr: the first): sets seq, prev_entry_hash, entry_hash.
ManifestEntry chain_after(ManifestEntry e, const ManifestEntry* prev);

struct ManifestProblem {
  long long seq = 0;  // the entry concerned
  long long recording_id = 0;
  std::string location;
  std::string what;   // "broken chain link: ...", "file missing", "file changed: ..."
};

// Walks the chain (entries in seq order) and checks every recording that has a "recorded"
// entry and no later "deleted" one against its file: `resolve` maps a stored location to the
// file (nullopt = missing). Returns every problem found; empty = all is well.
std::vector<ManifestProblem> verify_manifest(
    const std::vector<ManifestEntry>& entries,
    const std::function<std::optional<std::filesystem::path>(const std::string&)>& resolve);

}  // namespace parlor::app
