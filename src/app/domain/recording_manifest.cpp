#include "app/domain/recording_manifest.hpp"

#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <map>
#include <memory>

namespace parlor::app {

namespace fs = std::filesystem;

namespace {

// Large enough that a multi-gigabyte recording hashes at disk speed, small enough to live on
// the stack of a worker thread.
constexpr size_t kHashChunk = 64 * 1024;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("SHA-256 unavailable");
  }
  void update(const void* data, size_t n) { EVP_DigestUpdate(ctx_.get(), data, n); }
  void update(const std::string& s) { update(s.data(), s.size()); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &len);
    static const char* kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
      out += kDigits[md[i] >> 4];
      out += kDigits[md[i] & 0xf];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx_;
};

void field(Sha256& h, const std::string& v) {
  h.update(std::to_string(v.size()) + ":");
  h.update(v);
}

}  // namespace

std::optional<FileDigest> hash_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  Sha256 h;
  FileDigest d;
  std::array<char, kHashChunk> buf;
  while (in) {
    in.read(buf.data(), buf.size());
    auto n = in.gcount();
    if (n > 0) {
      h.update(buf.data(), static_cast<size_t>(n));
      d.size += static_cast<uint64_t>(n);
    }
  }
  if (in.bad()) return std::nullopt;
  d.sha256 = h.hex();
  return d;
}

std::optional<fs::path> resolve_recording_file(const std::string& root_dir,
                                               const std::string& location) {
  if (root_dir.empty() || location.empty() || location.find('\0') != std::string::npos)
    return std::nullopt;
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::absolute(root_dir, ec), ec);
  if (ec) return std::nullopt;
  fs::path file = fs::weakly_canonical(root / location, ec);  // an absolute location replaces root
  if (ec) return std::nullopt;
  // Whole components: /srv/rec-evil/x relative to /srv/rec starts with "..".
  fs::path rel = file.lexically_relative(root);
  if (rel.empty() || rel == "." || *rel.begin() == "..") return std::nullopt;
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  return file;
}

std::string manifest_entry_hash(const ManifestEntry& e) {
  Sha256 h;
  field(h, e.prev_entry_hash);
  field(h, std::to_string(e.seq));
  field(h, e.kind);
  field(h, std::to_string(e.recording_id));
  field(h, std::to_string(e.visit_id));
  field(h, e.egress_id);
  field(h, e.location);
  field(h, e.sha256);
  field(h, std::to_string(e.size_bytes));
  field(h, std::to_string(e.at));
  return h.hex();
}

ManifestEntry chain_after(ManifestEntry e, const ManifestEntry* prev) {
  e.seq = prev ? prev->seq + 1 : 1;
  e.prev_entry_hash = prev ? prev->entry_hash : kManifestGenesis;
  e.entry_hash = manifest_entry_hash(e);
  return e;
}

std::vector<ManifestProblem> verify_manifest(
    const std::vector<ManifestEntry>& entries,
    const std::function<std::optional<fs::path>(const std::string&)>& resolve) {
  std::vector<ManifestProblem> problems;
  // recording id -> its latest "recorded" entry, removed again by a later "deleted" one
  std::map<long long, const ManifestEntry*> live;
  const ManifestEntry* prev = nullptr;
  for (const auto& e : entries) {
    const long long expected_seq = prev ? prev->seq + 1 : 1;
    const std::string& expected_prev = prev ? prev->entry_hash : kManifestGenesis;
    auto link = [&](const std::string& what) {
      problems.push_back({e.seq, e.recording_id, e.location, "broken chain link: " + what});
    };
    if (e.seq != expected_seq) {
      link("expected entry " + std::to_string(expected_seq) + " here (an entry was removed)");
    }
    if (e.prev_entry_hash != expected_prev) {
      link("does not follow the entry before it");
    }
    if (manifest_entry_hash(e) != e.entry_hash) {
      link("the entry's fields were changed");
    }
    if (e.kind == "recorded") {
      live[e.recording_id] = &e;
    } else if (e.kind == "deleted") {
      live.erase(e.recording_id);
    } else {
      link("unknown entry kind '" + e.kind + "'");
    }
    prev = &e;
  }
  for (const auto& [id, e] : live) {
    auto file = resolve(e->location);
    if (!file) {
      problems.push_back({e->seq, id, e->location, "file missing"});
      continue;
    }
    auto d = hash_file(*file);
    if (!d) {
      problems.push_back({e->seq, id, e->location, "file unreadable"});
    } else if (d->sha256 != e->sha256 || static_cast<long long>(d->size) != e->size_bytes) {
      problems.push_back({e->seq, id, e->location,
                          "file changed: sha256 " + d->sha256 + ", " + std::to_string(d->size) +
                              " bytes; the manifest says sha256 " + e->sha256 + ", " +
                              std::to_string(e->size_bytes) + " bytes"});
    }
  }
  return problems;
}

}  // namespace parlor::app
