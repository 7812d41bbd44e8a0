#include "common/http/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdio>

#include "common/errors.hpp"

namespace parlor::http {

namespace ssl = boost::asio::ssl;

namespace {

// Mozilla's "intermediate" TLS 1.2 suites: ECDHE key exchange (forward secrecy) with AEAD only.
// TLS 1.3 suites are OpenSSL's defaults, all of which are AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string openssl_reason() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

}  // namespace

std::optional<FileStamp> stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  FileStamp s;
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  s.size = static_cast<uint64_t>(st.st_size);
  s.inode = static_cast<uint64_t>(st.st_ino);
  return s;
}

bool should_reload(const FileStamp& loaded_cert, const FileStamp& loaded_key,
                   const std::optional<FileStamp>& cert_now,
                   const std::optional<FileStamp>& key_now) {
  if (!cert_now || !key_now) return false;
  return *cert_now != loaded_cert || *key_now != loaded_key;
}

std::shared_ptr<ssl::context> make_server_context(const std::string& cert_file,
                                                  const std::string& key_file) {
  if (cert_file.empty() || key_file.empty()) {
    throw BadInput("tls: both a certificate file and a key file are needed");
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_SSLv2 |
                                  SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    throw InternalError("tls: cipher list refused: " + openssl_reason());
  }
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
    throw BadInput("tls: cannot use certificate file '" + cert_file + "': " + openssl_reason());
  }
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL compares the key with the certificate already loaded; say so in plain words.
    bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    std::string reason = openssl_reason();
    if (mismatch) {
      throw BadInput("tls: key file '" + key_file + "' does not match certificate '" + cert_file +
                     "' (" + reason + ")");
    }
    throw BadInput("tls: cannot use key file '" + key_file + "': " + reason);
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    throw BadInput("tls: key file '" + key_file + "' does not match certificate '" + cert_file +
                   "': " + openssl_reason());
  }
  return ctx;
}

std::string certificate_fingerprint(const std::string& cert_file) {
  FILE* f = std::fopen(cert_file.c_str(), "rb");
  if (!f) return "";
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!cert) {
    ERR_clear_error();
    return "";
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string out;
  if (X509_digest(cert, EVP_sha256(), md, &len) == 1) {
    static const char* hex = "0123456789ABCDEF";
    for (unsigned i = 0; i < len; ++i) {
      if (i) out += ':';
      out += hex[md[i] >> 4];
      out += hex[md[i] & 0xF];
    }
  }
  X509_free(cert);
  return out;
}

TlsContext::TlsContext(TlsOptions options) : options_(std::move(options)) {
  // Stamps first: a file replaced while loading is then seen as changed at the next check.
  auto cert = stamp_of(options_.cert_file), key = stamp_of(options_.key_file);
  if (!cert) throw BadInput("tls: certificate file '" + options_.cert_file + "' does not exist");
  if (!key) throw BadInput("tls: key file '" + options_.key_file + "' does not exist");
  context_ = make_server_context(options_.cert_file, options_.key_file);
  cert_stamp_ = *cert;
  key_stamp_ = *key;
  fingerprint_ = certificate_fingerprint(options_.cert_file);
}

std::shared_ptr<ssl::context> TlsContext::current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

TlsContext::ReloadResult TlsContext::reload_if_changed() {
  auto cert = stamp_of(options_.cert_file), key = stamp_of(options_.key_file);
  {
    std::lock_guard lock(mutex_);
    if (!should_reload(cert_stamp_, key_stamp_, cert, key)) return {};
    if (failed_ && failed_->first == *cert && failed_->second == *key) return {};
  }
  // Loaded outside the lock: new connections keep getting the old context meanwhile.
  std::shared_ptr<ssl::context> fresh;
  std::string error;
  try {
    fresh = make_server_context(options_.cert_file, options_.key_file);
  } catch (const Error& e) {
    error = e.what();
  }
  std::lock_guard lock(mutex_);
  if (!fresh) {
    failed_ = std::make_pair(*cert, *key);
    reload_failures_.fetch_add(1, std::memory_order_relaxed);
    return {Reload::kFailed, error + " (still serving the previous certificate)"};
  }
  context_ = std::move(fresh);
  cert_stamp_ = *cert;
  key_stamp_ = *key;
  failed_.reset();
  fingerprint_ = certificate_fingerprint(options_.cert_file);
  reloads_.fetch_add(1, std::memory_order_relaxed);
  return {Reload::kReloaded,
          "tls: reloaded " + options_.cert_file + " (sha256 " + fingerprint_ + ")"};
}

std::string TlsContext::key_permission_warning() const {
  struct stat st {};
  if (::stat(options_.key_file.c_str(), &st) != 0) return "";
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) == 0) return "";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
  return "warning: TLS key file " + options_.key_file + " has mode " + mode +
         ": others can read it (chmod 600)";
}

std::string TlsContext::fingerprint() const {
  std::lock_guard lock(mutex_);
  return fingerprint_;
}

}  // namespace parlor::http
