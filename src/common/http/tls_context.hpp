#pragma once
// TLS for the HTTP/WebSocket listeners of `parlor app` and `parlor media` (issue 15).
//
// TlsContext owns the server's certificate and key as an OpenSSL context (TLS 1.2 and 1.3 only,
// forward-secret AEAD ciphers for 1.2). New connections take current(); reload_if_changed()
// re-reads the files when their modification stamp changed and swaps in a new context: a
// connection keeps the context it started with, the next one uses the new one. A file that does
// not load (half-written, wrong key, garbage) leaves the old context in place and says why.
//
// Threading: current() and reload_if_changed() may be called from any thread.
#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace parlor::http {

struct TlsOptions {
  std::string cert_file;  // PEM: the certificate, then any intermediates (a full chain)
  std::string key_file;   // PEM private key
  // How often the files' stamps are checked for a reload (SIGHUP is not needed).
  std::chrono::milliseconds reload_interval{5000};
  // A client must finish the TLS handshake within this time (slowloris bound).
  std::chrono::seconds handshake_timeout{10};
  // Strict-Transport-Security max-age on every response sent over TLS; 0 = no header.
  uint32_t hsts_max_age = 31536000;  // one year, what browsers' preload lists expect
  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// What identifies one version of a file on disk: a replace (rename) changes the inode, an
// in-place rewrite the mtime or the size.
struct FileStamp {
  int64_t mtime_ns = 0;
  uint64_t size = 0;
  uint64_t inode = 0;
  bool operator==(const FileStamp&) const = default;
};
std::optional<FileStamp> stamp_of(const std::string& path);

// The reload decision: reload when both files exist and either differs from what was loaded. A
// missing file (mid-replace) waits for the next check.
bool should_reload(const FileStamp& loaded_cert, const FileStamp& loaded_key,
                   const std::optional<FileStamp>& cert_now, const std::optional<FileStamp>& key_now);

// Builds a server context from PEM files. Throws parlor::BadInput with the file and OpenSSL's
// reason when they cannot be used (missing, not PEM, key not matching the certificate).
std::shared_ptr<boost::asio::ssl::context> make_server_context(const std::string& cert_file,
                                                               const std::string& key_file);

// SHA-256 fingerprint of the first certificate in a PEM file, "AB:CD:..."; empty if unreadable.
std::string certificate_fingerprint(const std::string& cert_file);

class TlsContext {
 public:
  // Loads the files; throws parlor::BadInput when they cannot be used.
  explicit TlsContext(TlsOptions options);

  const TlsOptions& options() const { return options_; }
  std::shared_ptr<boost::asio::ssl::context> current() const;

  enum class Reload { kUnchanged, kReloaded, kFailed };
  struct ReloadResult {
    Reload outcome = Reload::kUnchanged;
    std::string message;  // why a reload failed, or what was loaded
  };
  ReloadResult reload_if_changed();

  // A warning when the key file can be read by group or others; empty when it cannot.
  std::string key_permission_warning() const;
  // SHA-256 of the certificate now served.
  std::string fingerprint() const;

  // Counters for /metrics and tests.
  uint64_t reloads() const { return reloads_.load(std::memory_order_relaxed); }
  uint64_t reload_failures() const { return reload_failures_.load(std::memory_order_relaxed); }
  uint64_t handshake_failures() const { return handshake_failures_.load(std::memory_order_relaxed); }
  void count_handshake_failure() { handshake_failures_.fetch_add(1, std::memory_order_relaxed); }

 private:
  TlsOptions options_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;  // guarded by mutex_
  FileStamp cert_stamp_, key_stamp_;                     // guarded by mutex_
  // A stamp pair that failed to load: not retried (nor logged again) until a file changes.
  std::optional<std::pair<FileStamp, FileStamp>> failed_;  // guarded by mutex_
  std::string fingerprint_;                                // guarded by mutex_
  std::atomic<uint64_t> reloads_{0}, reload_failures_{0}, handshake_failures_{0};
};

}  // namespace parlor::http
