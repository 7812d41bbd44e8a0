#pragma once
// SRTP and SRTCP (RFC 3711) on OpenSSL EVP, for one direction of one DTLS-SRTP association:
// AES_CM_128_HMAC_SHA1_80 (RFC 3711) and AEAD_AES_128_GCM (RFC 7714).
//
// Cost model: the AES/GCM cipher contexts and the HMAC key schedule are set up once per session;
// per packet only the IV is reset (no OpenSSL-3 algorithm fetch, no heap allocation). Per-SSRC
// state (rollover counter, highest sequence, replay window) is created on a stream's first
// packet, which is the only allocation.
//
// Media-path rules: nothing throws after construction; results are enums; callers count drops.
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>

namespace parlor::rtc {

enum class SrtpProfile { kAes128CmHmacSha1_80, kAeadAes128Gcm };

enum class SrtpResult {
  kOk,
  kMalformed,       // too short, or not an RTP/RTCP header
  kAuthFailed,      // tag mismatch (wrong key, tampering, or truncated tag)
  kReplayed,        // index already seen or too old for the replay window
  kBufferTooSmall,  // protect: output buffer lacks room for the tag (and SRTCP index)
  kCryptoError,     // OpenSSL refused (should not happen)
};

struct SrtpKeys {
  std::span<const uint8_t> master_key;   // 16 bytes
  std::span<const uint8_t> master_salt;  // 14 bytes (AES-CM) or 12 bytes (GCM)
};

class SrtpSession {
 public:
  // Throws parlor::BadInput when key or salt have the wrong length.
  SrtpSession(SrtpProfile profile, SrtpKeys keys);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  static size_t master_key_length(SrtpProfile) { return 16; }
  static size_t master_salt_length(SrtpProfile p) { return p == SrtpProfile::kAeadAes128Gcm ? 12 : 14; }
  // Bytes added by protect: the tag for SRTP; tag + 4-byte index for SRTCP.
  size_t rtp_overhead() const;
  size_t rtcp_overhead() const { return rtp_overhead() + 4; }

  // Encrypts `packet` into `out` (which may alias `packet`); *out_len = protected length.
  SrtpResult protect_rtp(std::span<const uint8_t> packet, std::span<uint8_t> out, size_t* out_len);
  // Decrypts in place; *out_len = plain RTP length.
  SrtpResult unprotect_rtp(std::span<uint8_t> packet, size_t* out_len);
  SrtpResult protect_rtcp(std::span<const uint8_t> packet, std::span<uint8_t> out, size_t* out_len);
  SrtpResult unprotect_rtcp(std::span<uint8_t> packet, size_t* out_len);

 private:
  struct Crypto;
  struct RtpStream {
    uint32_t roc = 0;
    uint16_t highest_seq = 0;
    bool started = false;
    uint64_t replay_top = 0;     // highest accepted 48-bit index
    uint64_t replay_mask = 0;    // bit i = (replay_top - i) seen
  };
  struct RtcpStream {
    uint32_t next_index = 0;     // sender
    uint32_t replay_top = 0;     // receiver
    uint64_t replay_mask = 0;
    bool started = false;
  };

  SrtpProfile profile_;
  std::unique_ptr<Crypto> rtp_;
  std::unique_ptr<Crypto> rtcp_;
  std::unordered_map<uint32_t, RtpStream> rtp_send_, rtp_recv_;
  std::unordered_map<uint32_t, RtcpStream> rtcp_send_, rtcp_recv_;
};

}  // namespace parlor::rtc
