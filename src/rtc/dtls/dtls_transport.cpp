#include "rtc/dtls/dtls_transport.hpp"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cctype>
#include <cstdio>
#include <cstring>

#include "common/errors.hpp"

namespace parlor::rtc {
namespace {

constexpr const char* kSrtpProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
constexpr const char* kExporterLabel = "EXTRACTOR-dtls_srtp";
constexpr long kCertificateValiditySeconds = 30L * 24 * 3600;
constexpr size_t kMaxRecord = 16384 + 2048;  // TLS plaintext limit plus record overhead

std::string sha256_fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  std::string out;
  char hex[4];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof(hex), i ? ":%02X" : "%02X", md[i]);
    out += hex;
  }
  return out;
}

// We check the peer's certificate against the SDP fingerprint ourselves after the handshake;
// self-signed certificates are the norm in WebRTC, so chain verification is skipped.
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

}  // namespace

std::string normalize_fingerprint(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (std::isxdigit(static_cast<unsigned char>(c))) out += static_cast<char>(std::toupper(c));
  }
  return out;
}

// ---- certificate ----

std::shared_ptr<DtlsCertificate> DtlsCertificate::generate() {
  std::shared_ptr<DtlsCertificate> c(new DtlsCertificate());
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (!key || !cert) throw InternalError("DTLS: cannot create a key or certificate");
  X509_set_version(cert, 2);
  unsigned char serial[8];
  RAND_bytes(serial, sizeof(serial));
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), kCertificateValiditySeconds);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("parlor"),
                             -1, -1, 0);
  X509_set_issuer_name(cert, name);
  if (!X509_sign(cert, key, EVP_sha256())) throw InternalError("DTLS: cannot sign the certificate");

  c->ctx_ = SSL_CTX_new(DTLS_method());
  SSL_CTX_set_min_proto_version(c->ctx_, DTLS1_2_VERSION);
  SSL_CTX_use_certificate(c->ctx_, cert);
  SSL_CTX_use_PrivateKey(c->ctx_, key);
  SSL_CTX_set_cipher_list(c->ctx_, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                   "ECDHE-ECDSA-CHACHA20-POLY1305");
  SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_certificate);
  SSL_CTX_set_read_ahead(c->ctx_, 1);
  // OpenSSL returns 0 on success here (inverted convention).
  if (SSL_CTX_set_tlsext_use_srtp(c->ctx_, kSrtpProfiles) != 0) {
    throw InternalError("DTLS: OpenSSL lacks the DTLS-SRTP profiles");
  }
  c->fingerprint_ = sha256_fingerprint(cert);
  X509_free(cert);
  EVP_PKEY_free(key);
  return c;
}

DtlsCertificate::~DtlsCertificate() { SSL_CTX_free(ctx_); }

// ---- write BIO: each write is one datagram handed to the listener ----

struct DtlsBio {
  static BIO_METHOD* method() {
    static BIO_METHOD* m = [] {
      BIO_METHOD* bm = BIO_meth_new(BIO_TYPE_SOURCE_SINK | BIO_get_new_index(), "parlor-dtls");
      BIO_meth_set_write(bm, write);
      BIO_meth_set_ctrl(bm, ctrl);
      BIO_meth_set_create(bm, [](BIO* b) {
        BIO_set_init(b, 1);
        return 1;
      });
      return bm;
    }();
    return m;
  }
  static int write(BIO* b, const char* data, int len) {
    auto* t = static_cast<DtlsTransport*>(BIO_get_data(b));
    if (t && len > 0) t->listener_.on_dtls_send({reinterpret_cast<const uint8_t*>(data), size_t(len)});
    return len;
  }
  static long ctrl(BIO*, int cmd, long, void*) {
    switch (cmd) {
      case BIO_CTRL_FLUSH: return 1;
      case BIO_CTRL_DGRAM_QUERY_MTU: return static_cast<long>(DtlsTransport::kMtu);
      case BIO_CTRL_WPENDING:
      case BIO_CTRL_PENDING: return 0;
      default: return 0;
    }
  }
};

// ---- transport ----

DtlsTransport::DtlsTransport(const DtlsCertificate& certificate, Role role,
                             std::string remote_fingerprint, Listener& listener)
    : role_(role), remote_fingerprint_(normalize_fingerprint(remote_fingerprint)), listener_(listener),
      read_buffer_(kMaxRecord) {
  ssl_ = SSL_new(certificate.context());
  rbio_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio_, -1);  // empty read BIO = "try again", not EOF
  BIO* wbio = BIO_new(DtlsBio::method());
  BIO_set_data(wbio, this);
  SSL_set_bio(ssl_, rbio_, wbio);
  SSL_set_options(ssl_, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(ssl_, kMtu);
  DTLS_set_link_mtu(ssl_, kMtu);
  if (role_ == Role::kClient) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
  }
}

DtlsTransport::~DtlsTransport() {
  if (ssl_) {
    BIO_set_data(SSL_get_wbio(ssl_), nullptr);
    SSL_free(ssl_);
  }
}

void DtlsTransport::start() {
  if (state_ != State::kNew) return;
  state_ = State::kConnecting;
  if (role_ == Role::kClient) drive();
}

void DtlsTransport::receive(std::span<const uint8_t> datagram) {
  if (state_ == State::kFailed || state_ == State::kClosed || datagram.empty()) return;
  if (state_ == State::kNew) state_ = State::kConnecting;
  BIO_write(rbio_, datagram.data(), static_cast<int>(datagram.size()));
  drive();
}

void DtlsTransport::drive() {
  if (state_ == State::kConnecting) {
    int rc = SSL_do_handshake(ssl_);
    if (rc == 1) {
      if (!verify_peer()) return;
      SrtpKeyMaterial keys;
      SRTP_PROTECTION_PROFILE* p = SSL_get_selected_srtp_profile(ssl_);
      if (!p) return fail("DTLS: peer negotiated no SRTP profile");
      keys.profile = p->id == SRTP_AEAD_AES_128_GCM ? SrtpProfile::kAeadAes128Gcm
                                                    : SrtpProfile::kAes128CmHmacSha1_80;
      size_t key_len = SrtpSession::master_key_length(keys.profile);
      size_t salt_len = SrtpSession::master_salt_length(keys.profile);
      std::vector<uint8_t> material(2 * (key_len + salt_len));
      if (SSL_export_keying_material(ssl_, material.data(), material.size(), kExporterLabel,
                                     std::strlen(kExporterLabel), nullptr, 0, 0) != 1) {
        return fail("DTLS: keying material export failed");
      }
      // RFC 5764 §4.2: client key | server key | client salt | server salt.
      auto at = [&](size_t off, size_t len) {
        return std::vector<uint8_t>(material.begin() + off, material.begin() + off + len);
      };
      auto client_key = at(0, key_len), server_key = at(key_len, key_len);
      auto client_salt = at(2 * key_len, salt_len), server_salt = at(2 * key_len + salt_len, salt_len);
      bool client = role_ == Role::kClient;
      keys.local_key = client ? client_key : server_key;
      keys.local_salt = client ? client_salt : server_salt;
      keys.remote_key = client ? server_key : client_key;
      keys.remote_salt = client ? server_salt : client_salt;
      state_ = State::kConnected;
      listener_.on_dtls_connected(keys);
    } else {
      int err = SSL_get_error(ssl_, rc);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        char buf[256];
        ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
        ERR_clear_error();
        return fail(std::string("DTLS handshake failed: ") + buf);
      }
      return;
    }
  }
  while (state_ == State::kConnected) {
    int n = SSL_read(ssl_, read_buffer_.data(), static_cast<int>(read_buffer_.size()));
    if (n > 0) {
      listener_.on_dtls_data({read_buffer_.data(), static_cast<size_t>(n)});
      continue;
    }
    int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_ZERO_RETURN) {
      state_ = State::kClosed;
      listener_.on_dtls_closed(state_, "peer sent close_notify");
    } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      ERR_clear_error();  // a bad record after the handshake is dropped, not fatal
    }
    break;
  }
}

bool DtlsTransport::verify_peer() {
  X509* peer = SSL_get1_peer_certificate(ssl_);
  if (!peer) {
    fail("DTLS: peer sent no certificate");
    return false;
  }
  std::string fp = normalize_fingerprint(sha256_fingerprint(peer));
  X509_free(peer);
  if (fp != remote_fingerprint_) {
    fail("DTLS: peer certificate does not match the SDP fingerprint");
    return false;
  }
  return true;
}

void DtlsTransport::fail(const std::string& reason) {
  state_ = State::kFailed;
  listener_.on_dtls_closed(state_, reason);
}

bool DtlsTransport::send(std::span<const uint8_t> data) {
  if (state_ != State::kConnected || data.empty()) return false;
  return SSL_write(ssl_, data.data(), static_cast<int>(data.size())) == static_cast<int>(data.size());
}

std::optional<std::chrono::milliseconds> DtlsTransport::next_timeout() const {
  if (state_ != State::kConnecting) return std::nullopt;
  timeval tv{};
  if (DTLSv1_get_timeout(ssl_, &tv) != 1) return std::nullopt;
  return std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

void DtlsTransport::handle_timeout() {
  if (state_ != State::kConnecting) return;
  if (DTLSv1_handle_timeout(ssl_) < 0) fail("DTLS: handshake timed out");
}

void DtlsTransport::close() {
  if (state_ == State::kConnected) SSL_shutdown(ssl_);
  if (state_ != State::kFailed) state_ = State::kClosed;
}

}  // namespace parlor::rtc
