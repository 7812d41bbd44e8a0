#pragma once
// DTLS 1.2 for DTLS-SRTP (RFC 5763/5764) on OpenSSL, sans-I/O: records come in through
// receive(), go out through Listener::on_dtls_send (one call per datagram), and the caller
// drives retransmission with next_timeout()/handle_timeout().
//
// Ownership: a DtlsCertificate is created once per server (ECDSA P-256, self-signed) and
// shared by every transport; it must outlive them. A DtlsTransport belongs to one peer
// connection and is used on one thread. Spans passed to the listener are valid only during
// the call.
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rtc/srtp/srtp_session.hpp"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace parlor::rtc {

class DtlsCertificate {
 public:
  // Generates a fresh key and certificate. Throws parlor::InternalError if OpenSSL fails.
  static std::shared_ptr<DtlsCertificate> generate();
  ~DtlsCertificate();

  // "sha-256" fingerprint value as SDP's a=fingerprint wants it: "AB:CD:...".
  const std::string& fingerprint() const { return fingerprint_; }
  SSL_CTX* context() const { return ctx_; }

 private:
  DtlsCertificate() = default;
  SSL_CTX* ctx_ = nullptr;
  std::string fingerprint_;
};

// Keys for the two SRTP directions, from the DTLS exporter (RFC 5764 §4.2).
struct SrtpKeyMaterial {
  SrtpProfile profile = SrtpProfile::kAes128CmHmacSha1_80;
  std::vector<uint8_t> local_key, local_salt;    // protect what we send
  std::vector<uint8_t> remote_key, remote_salt;  // unprotect what we receive
};

class DtlsTransport {
 public:
  enum class Role { kClient, kServer };  // a=setup:active → client; passive → server
  enum class State { kNew, kConnecting, kConnected, kFailed, kClosed };

  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_dtls_send(std::span<const uint8_t> datagram) = 0;
    virtual void on_dtls_connected(const SrtpKeyMaterial& keys) = 0;
    virtual void on_dtls_data(std::span<const uint8_t> data) = 0;  // application data (SCTP)
    virtual void on_dtls_closed(State state, const std::string& reason) = 0;
  };

  static constexpr size_t kMtu = 1200;  // below typical path MTUs once UDP/IP headers are added

  DtlsTransport(const DtlsCertificate& certificate, Role role, std::string remote_fingerprint,
                Listener& listener);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // Starts the handshake (the client sends its ClientHello; the server waits).
  void start();
  // Feeds one received datagram (first byte 20–63, RFC 7983).
  void receive(std::span<const uint8_t> datagram);
  // Sends application data; false unless connected.
  bool send(std::span<const uint8_t> data);
  // Time until the next retransmission is due, if one is pending.
  std::optional<std::chrono::milliseconds> next_timeout() const;
  void handle_timeout();
  // Sends close_notify and moves to kClosed.
  void close();

  State state() const { return state_; }
  Role role() const { return role_; }

 private:
  friend struct DtlsBio;
  void drive();
  void fail(const std::string& reason);
  bool verify_peer();

  Role role_;
  std::string remote_fingerprint_;
  Listener& listener_;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;
  State state_ = State::kNew;
  std::vector<uint8_t> read_buffer_;
};

// Normalises an SDP fingerprint value ("ab:cd" or "AB:CD") for comparison.
std::string normalize_fingerprint(std::string_view value);

}  // namespace parlor::rtc
