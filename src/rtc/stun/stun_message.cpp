#include "rtc/stun/stun_message.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include <cstring>

#include "rtc/byte_io.hpp"

namespace parlor::rtc {
namespace {

constexpr size_t kAttrHeader = 4;
constexpr size_t kIntegrityLength = 20;     // HMAC-SHA1
constexpr size_t kFingerprintLength = 4;
constexpr uint32_t kFingerprintXor = 0x5354554e;  // "STUN", RFC 8489 §14.7
constexpr size_t kMaxErrorReason = 763;     // RFC 8489 §14.8: < 128 characters, ≤ 763 bytes

size_t padded(size_t n) { return (n + 3) & ~size_t{3}; }

// Method and class are interleaved in the 14-bit type (RFC 8489 §5):
//   M11..M7 C1 M6..M4 C0 M3..M0
uint16_t compose_type(uint16_t method, StunClass cls) {
  uint16_t c = static_cast<uint16_t>(cls);
  return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) |
                               ((method & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7));
}

void hmac_sha1(std::string_view key, std::span<const uint8_t> a, std::span<const uint8_t> b,
               uint8_t out[kIntegrityLength]) {
  // Not on the media path (consent checks are seconds apart), so the one-shot API is fine.
  HMAC_CTX* ctx = HMAC_CTX_new();
  HMAC_Init_ex(ctx, key.data(), static_cast<int>(key.size()), EVP_sha1(), nullptr);
  HMAC_Update(ctx, a.data(), a.size());
  HMAC_Update(ctx, b.data(), b.size());
  unsigned int len = 0;
  HMAC_Final(ctx, out, &len);
  HMAC_CTX_free(ctx);
}

}  // namespace

bool looks_like_stun(std::span<const uint8_t> d) {
  return d.size() >= kStunHeaderSize && d[0] < 4 && read_u32(d, 4) == kStunMagicCookie;
}

std::optional<StunMessageView> StunMessageView::parse(std::span<const uint8_t> d) {
  if (!looks_like_stun(d)) return std::nullopt;
  size_t length = read_u16(d, 2);
  if (length % 4 != 0 || kStunHeaderSize + length != d.size()) return std::nullopt;
  StunMessageView v;
  v.data_ = d;
  uint16_t type = read_u16(d, 0);
  v.method_ = static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
  v.class_ = static_cast<StunClass>(((type >> 4) & 1) | ((type >> 7) & 2));
  size_t at = kStunHeaderSize;
  while (at < d.size()) {
    if (d.size() - at < kAttrHeader) return std::nullopt;
    uint16_t attr = read_u16(d, at);
    size_t len = read_u16(d, at + 2);
    if (d.size() - at - kAttrHeader < padded(len)) return std::nullopt;
    if (v.fingerprint_offset_) return std::nullopt;  // nothing may follow FINGERPRINT
    if (attr == stun_attr::kMessageIntegrity) {
      if (len != kIntegrityLength) return std::nullopt;
      if (!v.integrity_offset_) v.integrity_offset_ = at;
    } else if (attr == stun_attr::kFingerprint) {
      if (len != kFingerprintLength) return std::nullopt;
      v.fingerprint_offset_ = at;
    }
    at += kAttrHeader + padded(len);
  }
  return v;
}

std::optional<std::span<const uint8_t>> StunMessageView::attribute(uint16_t type) const {
  size_t at = kStunHeaderSize;
  while (at + kAttrHeader <= data_.size()) {
    uint16_t attr = read_u16(data_, at);
    size_t len = read_u16(data_, at + 2);
    if (attr == type) return data_.subspan(at + kAttrHeader, len);
    at += kAttrHeader + padded(len);
  }
  return std::nullopt;
}

std::string_view StunMessageView::username() const {
  auto a = attribute(stun_attr::kUsername);
  if (!a) return {};
  return {reinterpret_cast<const char*>(a->data()), a->size()};
}

std::optional<uint32_t> StunMessageView::priority() const {
  auto a = attribute(stun_attr::kPriority);
  if (!a || a->size() != 4) return std::nullopt;
  return read_u32(*a, 0);
}

std::optional<uint64_t> StunMessageView::ice_controlling() const {
  auto a = attribute(stun_attr::kIceControlling);
  if (!a || a->size() != 8) return std::nullopt;
  return read_u64(*a, 0);
}

std::optional<uint64_t> StunMessageView::ice_controlled() const {
  auto a = attribute(stun_attr::kIceControlled);
  if (!a || a->size() != 8) return std::nullopt;
  return read_u64(*a, 0);
}

std::optional<uint16_t> StunMessageView::error_code() const {
  auto a = attribute(stun_attr::kErrorCode);
  if (!a || a->size() < 4) return std::nullopt;
  return static_cast<uint16_t>(((*a)[2] & 0x7) * 100 + (*a)[3]);
}

std::optional<StunAddress> StunMessageView::xor_mapped_address() const {
  return xor_address(stun_attr::kXorMappedAddress);
}

std::optional<StunAddress> StunMessageView::xor_address(uint16_t type) const {
  auto a = attribute(type);
  if (!a || a->size() < 8) return std::nullopt;
  StunAddress addr;
  uint8_t family = (*a)[1];
  addr.port = static_cast<uint16_t>(read_u16(*a, 2) ^ (kStunMagicCookie >> 16));
  uint8_t mask[16];
  write_u32({mask, 16}, 0, kStunMagicCookie);
  std::memcpy(mask + 4, data_.data() + 8, 12);
  if (family == 0x01 && a->size() == 8) {
    for (int i = 0; i < 4; ++i) addr.ip[i] = (*a)[4 + i] ^ mask[i];
  } else if (family == 0x02 && a->size() == 20) {
    addr.ipv6 = true;
    for (int i = 0; i < 16; ++i) addr.ip[i] = (*a)[4 + i] ^ mask[i];
  } else {
    return std::nullopt;
  }
  return addr;
}

bool StunMessageView::check_integrity(std::string_view key) const {
  if (!integrity_offset_) return false;
  // The HMAC covers the message up to MESSAGE-INTEGRITY, with the header's length field set
  // as if MESSAGE-INTEGRITY were the last attribute (RFC 8489 §14.5).
  uint8_t header[kStunHeaderSize];
  std::memcpy(header, data_.data(), kStunHeaderSize);
  write_u16({header, kStunHeaderSize}, 2,
            static_cast<uint16_t>(integrity_offset_ + kAttrHeader + kIntegrityLength - kStunHeaderSize));
  uint8_t mac[kIntegrityLength];
  hmac_sha1(key, {header, kStunHeaderSize},
            data_.subspan(kStunHeaderSize, integrity_offset_ - kStunHeaderSize), mac);
  return CRYPTO_memcmp(mac, data_.data() + integrity_offset_ + kAttrHeader, kIntegrityLength) == 0;
}

bool StunMessageView::check_fingerprint() const {
  if (!fingerprint_offset_ || fingerprint_offset_ + kAttrHeader + kFingerprintLength != data_.size()) {
    return false;
  }
  uint32_t crc = static_cast<uint32_t>(
      crc32(0, data_.data(), static_cast<uInt>(fingerprint_offset_)));
  return (crc ^ kFingerprintXor) == read_u32(data_, fingerprint_offset_ + kAttrHeader);
}

// ---- builder ----

StunMessageBuilder::StunMessageBuilder(std::span<uint8_t> buffer, uint16_t method, StunClass cls,
                                       std::span<const uint8_t, 12> tid)
    : buffer_(buffer) {
  if (buffer_.size() < kStunHeaderSize) {
    ok_ = false;
    return;
  }
  write_u16(buffer_, 0, compose_type(method, cls));
  write_u16(buffer_, 2, 0);
  write_u32(buffer_, 4, kStunMagicCookie);
  std::memcpy(buffer_.data() + 8, tid.data(), 12);
  size_ = kStunHeaderSize;
}

void StunMessageBuilder::set_length(size_t body) { write_u16(buffer_, 2, static_cast<uint16_t>(body)); }

bool StunMessageBuilder::reserve(size_t len, size_t* value_offset, uint16_t type) {
  if (!ok_ || len > 0xFFFF || buffer_.size() - size_ < kAttrHeader + padded(len)) return false;
  write_u16(buffer_, size_, type);
  write_u16(buffer_, size_ + 2, static_cast<uint16_t>(len));
  *value_offset = size_ + kAttrHeader;
  // Zero the padding so output is deterministic.
  std::memset(buffer_.data() + *value_offset + len, 0, padded(len) - len);
  size_ += kAttrHeader + padded(len);
  set_length(size_ - kStunHeaderSize);
  return true;
}

bool StunMessageBuilder::add_attribute(uint16_t type, std::span<const uint8_t> value) {
  size_t at = 0;
  if (!reserve(value.size(), &at, type)) return false;
  if (!value.empty()) std::memcpy(buffer_.data() + at, value.data(), value.size());
  return true;
}

bool StunMessageBuilder::add_string(uint16_t type, std::string_view value) {
  return add_attribute(type, {reinterpret_cast<const uint8_t*>(value.data()), value.size()});
}

bool StunMessageBuilder::add_u32(uint16_t type, uint32_t value) {
  size_t at = 0;
  if (!reserve(4, &at, type)) return false;
  write_u32(buffer_, at, value);
  return true;
}

bool StunMessageBuilder::add_u64(uint16_t type, uint64_t value) {
  size_t at = 0;
  if (!reserve(8, &at, type)) return false;
  write_u64(buffer_, at, value);
  return true;
}

bool StunMessageBuilder::add_xor_mapped_address(const StunAddress& a) {
  return add_xor_address(stun_attr::kXorMappedAddress, a);
}

bool StunMessageBuilder::add_xor_address(uint16_t type, const StunAddress& a) {
  size_t len = a.ipv6 ? 20 : 8, at = 0;
  if (!reserve(len, &at, type)) return false;
  buffer_[at] = 0;
  buffer_[at + 1] = a.ipv6 ? 0x02 : 0x01;
  write_u16(buffer_, at + 2, static_cast<uint16_t>(a.port ^ (kStunMagicCookie >> 16)));
  uint8_t mask[16];
  write_u32({mask, 16}, 0, kStunMagicCookie);
  std::memcpy(mask + 4, buffer_.data() + 8, 12);
  for (size_t i = 0; i < (a.ipv6 ? 16u : 4u); ++i) buffer_[at + 4 + i] = a.ip[i] ^ mask[i];
  return true;
}

bool StunMessageBuilder::add_error_code(uint16_t code, std::string_view reason) {
  if (code < 300 || code > 699) return false;
  reason = reason.substr(0, kMaxErrorReason);
  size_t at = 0;
  if (!reserve(4 + reason.size(), &at, stun_attr::kErrorCode)) return false;
  buffer_[at] = 0;
  buffer_[at + 1] = 0;
  buffer_[at + 2] = static_cast<uint8_t>(code / 100);
  buffer_[at + 3] = static_cast<uint8_t>(code % 100);
  std::memcpy(buffer_.data() + at + 4, reason.data(), reason.size());
  return true;
}

bool StunMessageBuilder::add_integrity(std::string_view key) {
  size_t at = 0;
  size_t before = size_;
  if (!reserve(kIntegrityLength, &at, stun_attr::kMessageIntegrity)) return false;
  // The length field already counts MESSAGE-INTEGRITY, as the HMAC requires.
  uint8_t mac[kIntegrityLength];
  hmac_sha1(key, {buffer_.data(), before}, {}, mac);
  std::memcpy(buffer_.data() + at, mac, kIntegrityLength);
  return true;
}

bool StunMessageBuilder::add_fingerprint() {
  size_t at = 0;
  size_t before = size_;
  if (!reserve(kFingerprintLength, &at, stun_attr::kFingerprint)) return false;
  uint32_t crc = static_cast<uint32_t>(crc32(0, buffer_.data(), static_cast<uInt>(before)));
  write_u32(buffer_, at, crc ^ kFingerprintXor);
  return true;
}

}  // namespace parlor::rtc
