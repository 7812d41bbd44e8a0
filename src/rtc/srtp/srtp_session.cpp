#include "rtc/srtp/srtp_session.hpp"

// HMAC_CTX is deprecated in OpenSSL 3 but is the cheapest way to keep a keyed HMAC state and
// re-run it per packet (EVP_MAC would need a context duplicate per packet).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstring>

#include "common/errors.hpp"
#include "rtc/byte_io.hpp"

namespace parlor::rtc {
namespace {

constexpr size_t kCmTagLength = 10;      // HMAC-SHA1-80
constexpr size_t kGcmTagLength = 16;
constexpr size_t kAuthKeyLength = 20;
constexpr size_t kRtpFixedHeader = 12;
constexpr size_t kRtcpFixedHeader = 8;   // V/P/count, PT, length, sender SSRC
constexpr uint32_t kSrtcpEBit = 0x80000000;
constexpr uint64_t kReplayWindow = 64;

// RFC 3711 §4.3 key derivation labels.
enum Label : uint8_t { kRtpKey = 0, kRtpAuth = 1, kRtpSalt = 2, kRtcpKey = 3, kRtcpAuth = 4, kRtcpSalt = 5 };

// AES-CM PRF with key_derivation_rate 0: keystream of AES-CTR(master_key, (salt ^ label) << 16).
void derive(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt, Label label,
            uint8_t* out, size_t len) {
  std::array<uint8_t, 16> iv{};
  std::memcpy(iv.data(), master_salt.data(), master_salt.size());  // 12-byte salts are zero-padded
  iv[7] ^= label;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, master_key.data(), iv.data());
  std::array<uint8_t, 32> zeros{};
  int outl = 0;
  EVP_EncryptUpdate(ctx, out, &outl, zeros.data(), static_cast<int>(len));
  EVP_CIPHER_CTX_free(ctx);
}

// Length of an RTP header including CSRCs and extension; 0 if malformed.
size_t rtp_header_length(std::span<const uint8_t> p) {
  if (p.size() < kRtpFixedHeader || (p[0] >> 6) != 2) return 0;
  size_t len = kRtpFixedHeader + 4 * (p[0] & 0x0F);
  if (p[0] & 0x10) {
    if (p.size() < len + 4) return 0;
    len += 4 + 4 * size_t{read_u16(p, len + 2)};
  }
  return len <= p.size() ? len : 0;
}

bool replay_check(uint64_t top, uint64_t mask, bool started, uint64_t index) {
  if (!started || index > top) return true;
  uint64_t delta = top - index;
  if (delta >= kReplayWindow) return false;
  return !(mask & (uint64_t{1} << delta));
}

void replay_accept(uint64_t& top, uint64_t& mask, uint64_t index) {
  if (index > top) {
    uint64_t shift = index - top;
    mask = shift >= kReplayWindow ? 0 : mask << shift;
    mask |= 1;
    top = index;
  } else {
    mask |= uint64_t{1} << (top - index);
  }
}

}  // namespace

// Cipher state for one of RTP or RTCP.
struct SrtpSession::Crypto {
  SrtpProfile profile;
  EVP_CIPHER_CTX* cipher = nullptr;
  HMAC_CTX* hmac = nullptr;
  std::array<uint8_t, 14> salt{};

  Crypto(SrtpProfile p, SrtpKeys keys, Label key_label, Label auth_label, Label salt_label)
      : profile(p) {
    std::array<uint8_t, 16> key{};
    derive(keys.master_key, keys.master_salt, key_label, key.data(), key.size());
    derive(keys.master_key, keys.master_salt, salt_label, salt.data(),
           p == SrtpProfile::kAeadAes128Gcm ? 12 : 14);
    cipher = EVP_CIPHER_CTX_new();
    if (p == SrtpProfile::kAeadAes128Gcm) {
      EVP_CipherInit_ex(cipher, EVP_aes_128_gcm(), nullptr, nullptr, nullptr, 1);
      EVP_CIPHER_CTX_ctrl(cipher, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr);
      EVP_CipherInit_ex(cipher, nullptr, nullptr, key.data(), nullptr, -1);
    } else {
      EVP_EncryptInit_ex(cipher, EVP_aes_128_ctr(), nullptr, key.data(), nullptr);
      std::array<uint8_t, kAuthKeyLength> auth{};
      derive(keys.master_key, keys.master_salt, auth_label, auth.data(), auth.size());
      hmac = HMAC_CTX_new();
      HMAC_Init_ex(hmac, auth.data(), static_cast<int>(auth.size()), EVP_sha1(), nullptr);
      OPENSSL_cleanse(auth.data(), auth.size());
    }
    OPENSSL_cleanse(key.data(), key.size());
  }
  ~Crypto() {
    EVP_CIPHER_CTX_free(cipher);
    HMAC_CTX_free(hmac);
  }

  // AES-CM: XOR the keystream for `iv` over data (in place or out of place).
  bool ctr(const uint8_t iv[16], const uint8_t* in, uint8_t* out, size_t len) {
    int outl = 0;
    return EVP_EncryptInit_ex(cipher, nullptr, nullptr, nullptr, iv) == 1 &&
           EVP_EncryptUpdate(cipher, out, &outl, in, static_cast<int>(len)) == 1;
  }

  void cm_iv(uint8_t iv[16], uint32_t ssrc, uint64_t index) const {
    std::memcpy(iv, salt.data(), 14);
    iv[14] = iv[15] = 0;
    for (int i = 0; i < 4; ++i) iv[4 + i] ^= static_cast<uint8_t>(ssrc >> (24 - 8 * i));
    for (int i = 0; i < 6; ++i) iv[8 + i] ^= static_cast<uint8_t>(index >> (40 - 8 * i));
  }

  void tag(const uint8_t* data, size_t len, const uint8_t* trailer, size_t trailer_len,
           uint8_t out[EVP_MAX_MD_SIZE]) {
    unsigned int outl = 0;
    HMAC_Init_ex(hmac, nullptr, 0, nullptr, nullptr);  // reuse the keyed state
    HMAC_Update(hmac, data, len);
    if (trailer_len) HMAC_Update(hmac, trailer, trailer_len);
    HMAC_Final(hmac, out, &outl);
  }

  // GCM seal/open: `aad` is authenticated, [data, data+len) is encrypted in place.
  bool gcm(bool encrypt, const uint8_t iv[12], const uint8_t* aad, size_t aad_len,
           const uint8_t* aad2, size_t aad2_len, uint8_t* data, size_t len, uint8_t* tag_io) {
    int outl = 0;
    if (EVP_CipherInit_ex(cipher, nullptr, nullptr, nullptr, iv, encrypt ? 1 : 0) != 1) return false;
    if (EVP_CipherUpdate(cipher, nullptr, &outl, aad, static_cast<int>(aad_len)) != 1) return false;
    if (aad2_len && EVP_CipherUpdate(cipher, nullptr, &outl, aad2, static_cast<int>(aad2_len)) != 1) {
      return false;
    }
    if (len && EVP_CipherUpdate(cipher, data, &outl, data, static_cast<int>(len)) != 1) return false;
    if (!encrypt) EVP_CIPHER_CTX_ctrl(cipher, EVP_CTRL_GCM_SET_TAG, kGcmTagLength, tag_io);
    if (EVP_CipherFinal_ex(cipher, data + len, &outl) != 1) return false;
    if (encrypt) EVP_CIPHER_CTX_ctrl(cipher, EVP_CTRL_GCM_GET_TAG, kGcmTagLength, tag_io);
    return true;
  }
};

SrtpSession::SrtpSession(SrtpProfile profile, SrtpKeys keys) : profile_(profile) {
  if (keys.master_key.size() != master_key_length(profile) ||
      keys.master_salt.size() != master_salt_length(profile)) {
    throw BadInput("SRTP: wrong master key or salt length for the profile");
  }
  rtp_ = std::make_unique<Crypto>(profile, keys, kRtpKey, kRtpAuth, kRtpSalt);
  rtcp_ = std::make_unique<Crypto>(profile, keys, kRtcpKey, kRtcpAuth, kRtcpSalt);
}

SrtpSession::~SrtpSession() = default;

size_t SrtpSession::rtp_overhead() const {
  return profile_ == SrtpProfile::kAeadAes128Gcm ? kGcmTagLength : kCmTagLength;
}

SrtpResult SrtpSession::protect_rtp(std::span<const uint8_t> in, std::span<uint8_t> out,
                                    size_t* out_len) {
  size_t header = rtp_header_length(in);
  if (!header) return SrtpResult::kMalformed;
  if (out.size() < in.size() + rtp_overhead()) return SrtpResult::kBufferTooSmall;
  uint32_t ssrc = read_u32(in, 8);
  uint16_t seq = read_u16(in, 2);
  auto& s = rtp_send_[ssrc];
  if (!s.started) {
    s.started = true;
    s.highest_seq = seq;
  } else if (static_cast<int16_t>(seq - s.highest_seq) > 0) {
    if (seq < s.highest_seq) ++s.roc;  // moved forward across 65535 → 0
    s.highest_seq = seq;
  }
  uint64_t index = (uint64_t{s.roc} << 16) | seq;
  if (out.data() != in.data()) std::memmove(out.data(), in.data(), in.size());
  uint8_t* p = out.data();
  size_t payload = in.size() - header;
  if (profile_ == SrtpProfile::kAeadAes128Gcm) {
    uint8_t iv[12] = {0, 0};
    write_u32({iv, 12}, 2, ssrc);
    write_u32({iv, 12}, 6, s.roc);
    write_u16({iv, 12}, 10, seq);
    for (int i = 0; i < 12; ++i) iv[i] ^= rtp_->salt[i];
    if (!rtp_->gcm(true, iv, p, header, nullptr, 0, p + header, payload, p + in.size())) {
      return SrtpResult::kCryptoError;
    }
    *out_len = in.size() + kGcmTagLength;
    return SrtpResult::kOk;
  }
  uint8_t iv[16];
  rtp_->cm_iv(iv, ssrc, index);
  if (!rtp_->ctr(iv, p + header, p + header, payload)) return SrtpResult::kCryptoError;
  uint8_t roc_be[4];
  write_u32({roc_be, 4}, 0, s.roc);
  uint8_t mac[EVP_MAX_MD_SIZE];
  rtp_->tag(p, in.size(), roc_be, 4, mac);
  std::memcpy(p + in.size(), mac, kCmTagLength);
  *out_len = in.size() + kCmTagLength;
  return SrtpResult::kOk;
}

SrtpResult SrtpSession::unprotect_rtp(std::span<uint8_t> packet, size_t* out_len) {
  size_t tag_len = rtp_overhead();
  if (packet.size() < kRtpFixedHeader + tag_len) return SrtpResult::kMalformed;
  auto body = packet.first(packet.size() - tag_len);
  size_t header = rtp_header_length(body);
  if (!header) return SrtpResult::kMalformed;
  uint32_t ssrc = read_u32(body, 8);
  uint16_t seq = read_u16(body, 2);
  auto& s = rtp_recv_[ssrc];
  // RFC 3711 Appendix A: guess the rollover counter from the highest sequence seen.
  uint32_t v = s.roc;
  if (s.started) {
    if (s.highest_seq < 0x8000) {
      if (seq > s.highest_seq && seq - s.highest_seq > 0x8000 && s.roc > 0) v = s.roc - 1;
    } else if (s.highest_seq - 0x8000 > seq) {
      v = s.roc + 1;
    }
  }
  uint64_t index = (uint64_t{v} << 16) | seq;
  if (!replay_check(s.replay_top, s.replay_mask, s.started, index)) return SrtpResult::kReplayed;
  uint8_t* p = packet.data();
  size_t payload = body.size() - header;
  if (profile_ == SrtpProfile::kAeadAes128Gcm) {
    uint8_t iv[12] = {0, 0};
    write_u32({iv, 12}, 2, ssrc);
    write_u32({iv, 12}, 6, v);
    write_u16({iv, 12}, 10, seq);
    for (int i = 0; i < 12; ++i) iv[i] ^= rtp_->salt[i];
    // EVP decrypts as it goes and checks the tag at Final; on failure the (now garbled)
    // packet is dropped by the caller, so nothing needs restoring.
    if (!rtp_->gcm(false, iv, p, header, nullptr, 0, p + header, payload, p + body.size())) {
      return SrtpResult::kAuthFailed;
    }
  } else {
    uint8_t roc_be[4];
    write_u32({roc_be, 4}, 0, v);
    uint8_t mac[EVP_MAX_MD_SIZE];
    rtp_->tag(p, body.size(), roc_be, 4, mac);
    if (CRYPTO_memcmp(mac, p + body.size(), kCmTagLength) != 0) return SrtpResult::kAuthFailed;
    uint8_t iv[16];
    rtp_->cm_iv(iv, ssrc, index);
    if (!rtp_->ctr(iv, p + header, p + header, payload)) return SrtpResult::kCryptoError;
  }
  // Authenticated: update rollover state and the replay window.
  if (!s.started) {
    s.started = true;
    s.highest_seq = seq;
    s.roc = v;
  } else if (v > s.roc) {
    s.roc = v;
    s.highest_seq = seq;
  } else if (v == s.roc && seq > s.highest_seq) {
    s.highest_seq = seq;
  }
  replay_accept(s.replay_top, s.replay_mask, index);
  *out_len = body.size();
  return SrtpResult::kOk;
}

SrtpResult SrtpSession::protect_rtcp(std::span<const uint8_t> in, std::span<uint8_t> out,
                                     size_t* out_len) {
  if (in.size() < kRtcpFixedHeader || (in[0] >> 6) != 2) return SrtpResult::kMalformed;
  if (out.size() < in.size() + rtcp_overhead()) return SrtpResult::kBufferTooSmall;
  uint32_t ssrc = read_u32(in, 4);
  auto& s = rtcp_send_[ssrc];
  // The first SRTCP index is 1 (libsrtp and browsers increment before use).
  uint32_t index = (s.next_index + 1) & 0x7FFFFFFF;
  s.next_index = index;
  if (out.data() != in.data()) std::memmove(out.data(), in.data(), in.size());
  uint8_t* p = out.data();
  size_t payload = in.size() - kRtcpFixedHeader;
  uint8_t e_index[4];
  write_u32({e_index, 4}, 0, kSrtcpEBit | index);
  if (profile_ == SrtpProfile::kAeadAes128Gcm) {
    uint8_t iv[12] = {0, 0};
    write_u32({iv, 12}, 2, ssrc);
    write_u32({iv, 12}, 8, index);
    for (int i = 0; i < 12; ++i) iv[i] ^= rtcp_->salt[i];
    if (!rtcp_->gcm(true, iv, p, kRtcpFixedHeader, e_index, 4, p + kRtcpFixedHeader, payload,
                    p + in.size())) {
      return SrtpResult::kCryptoError;
    }
    std::memcpy(p + in.size() + kGcmTagLength, e_index, 4);
    *out_len = in.size() + kGcmTagLength + 4;
    return SrtpResult::kOk;
  }
  uint8_t iv[16];
  rtcp_->cm_iv(iv, ssrc, index);
  if (!rtcp_->ctr(iv, p + kRtcpFixedHeader, p + kRtcpFixedHeader, payload)) {
    return SrtpResult::kCryptoError;
  }
  std::memcpy(p + in.size(), e_index, 4);
  uint8_t mac[EVP_MAX_MD_SIZE];
  rtcp_->tag(p, in.size() + 4, nullptr, 0, mac);
  std::memcpy(p + in.size() + 4, mac, kCmTagLength);
  *out_len = in.size() + 4 + kCmTagLength;
  return SrtpResult::kOk;
}

SrtpResult SrtpSession::unprotect_rtcp(std::span<uint8_t> packet, size_t* out_len) {
  size_t tag_len = rtp_overhead();
  if (packet.size() < kRtcpFixedHeader + 4 + tag_len || (packet[0] >> 6) != 2) {
    return SrtpResult::kMalformed;
  }
  uint8_t* p = packet.data();
  uint32_t ssrc = read_u32(packet, 4);
  size_t body_len, e_at;
  if (profile_ == SrtpProfile::kAeadAes128Gcm) {
    e_at = packet.size() - 4;              // header | ciphertext | tag | E+index
    body_len = e_at - kGcmTagLength;
  } else {
    e_at = packet.size() - kCmTagLength - 4;  // header | ciphertext | E+index | tag
    body_len = e_at;
  }
  uint32_t e_index = read_u32(packet, e_at);
  uint32_t index = e_index & 0x7FFFFFFF;
  bool encrypted = e_index & kSrtcpEBit;
  auto& s = rtcp_recv_[ssrc];
  uint64_t top = s.replay_top;
  if (!replay_check(top, s.replay_mask, s.started, index)) return SrtpResult::kReplayed;
  size_t payload = body_len - kRtcpFixedHeader;
  if (profile_ == SrtpProfile::kAeadAes128Gcm) {
    uint8_t iv[12] = {0, 0};
    write_u32({iv, 12}, 2, ssrc);
    write_u32({iv, 12}, 8, index);
    for (int i = 0; i < 12; ++i) iv[i] ^= rtcp_->salt[i];
    uint8_t e_bytes[4];
    std::memcpy(e_bytes, p + e_at, 4);
    // Unencrypted SRTCP under GCM authenticates the whole packet as AAD (RFC 7714 §9.2).
    bool ok = encrypted ? rtcp_->gcm(false, iv, p, kRtcpFixedHeader, e_bytes, 4,
                                     p + kRtcpFixedHeader, payload, p + body_len)
                        : rtcp_->gcm(false, iv, p, body_len, e_bytes, 4, nullptr, 0, p + body_len);
    if (!ok) return SrtpResult::kAuthFailed;
  } else {
    uint8_t mac[EVP_MAX_MD_SIZE];
    rtcp_->tag(p, e_at + 4, nullptr, 0, mac);
    if (CRYPTO_memcmp(mac, p + e_at + 4, kCmTagLength) != 0) return SrtpResult::kAuthFailed;
    if (encrypted) {
      uint8_t iv[16];
      rtcp_->cm_iv(iv, ssrc, index);
      if (!rtcp_->ctr(iv, p + kRtcpFixedHeader, p + kRtcpFixedHeader, payload)) {
        return SrtpResult::kCryptoError;
      }
    }
  }
  s.started = true;
  uint64_t t = s.replay_top;
  replay_accept(t, s.replay_mask, index);
  s.replay_top = static_cast<uint32_t>(t);
  *out_len = body_len;
  return SrtpResult::kOk;
}

}  // namespace parlor::rtc
