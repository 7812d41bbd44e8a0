#pragma once
// STUN messages (RFC 8489, formerly 5389) as used by ICE (RFC 8445): a bounds-checked view for
// parsing and a builder that writes into a caller buffer. Neither allocates.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |0 0|     STUN Message Type     |         Message Length        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                 Magic Cookie (0x2112A442)                     |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                  Transaction ID (96 bits)                     |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | attributes: Type (16) | Length (16) | Value, padded to 4 bytes |
//
// The view is valid only while the bytes it was parsed from are.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace parlor::rtc {

inline constexpr uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr size_t kStunHeaderSize = 20;
inline constexpr uint16_t kStunBindingMethod = 0x001;

enum class StunClass : uint8_t { kRequest = 0, kIndication = 1, kSuccess = 2, kError = 3 };

namespace stun_attr {
inline constexpr uint16_t kMappedAddress = 0x0001;
inline constexpr uint16_t kUsername = 0x0006;
inline constexpr uint16_t kMessageIntegrity = 0x0008;
inline constexpr uint16_t kErrorCode = 0x0009;
inline constexpr uint16_t kUnknownAttributes = 0x000A;
inline constexpr uint16_t kRealm = 0x0014;
inline constexpr uint16_t kNonce = 0x0015;
inline constexpr uint16_t kXorMappedAddress = 0x0020;
inline constexpr uint16_t kPriority = 0x0024;
inline constexpr uint16_t kUseCandidate = 0x0025;
inline constexpr uint16_t kSoftware = 0x8022;
inline constexpr uint16_t kFingerprint = 0x8028;
inline constexpr uint16_t kIceControlled = 0x8029;
inline constexpr uint16_t kIceControlling = 0x802A;
// TURN (RFC 8656)
inline constexpr uint16_t kChannelNumber = 0x000C;
inline constexpr uint16_t kLifetime = 0x000D;
inline constexpr uint16_t kXorPeerAddress = 0x0012;
inline constexpr uint16_t kData = 0x0013;
inline constexpr uint16_t kXorRelayedAddress = 0x0016;
inline constexpr uint16_t kRequestedAddressFamily = 0x0017;
inline constexpr uint16_t kEvenPort = 0x0018;
inline constexpr uint16_t kRequestedTransport = 0x0019;
inline constexpr uint16_t kDontFragment = 0x001A;
inline constexpr uint16_t kReservationToken = 0x0022;
}  // namespace stun_attr

// TURN methods (RFC 8656 §17).
namespace turn_method {
inline constexpr uint16_t kAllocate = 0x003;
inline constexpr uint16_t kRefresh = 0x004;
inline constexpr uint16_t kSend = 0x006;
inline constexpr uint16_t kData = 0x007;
inline constexpr uint16_t kCreatePermission = 0x008;
inline constexpr uint16_t kChannelBind = 0x009;
}  // namespace turn_method

// An IPv4 or IPv6 transport address in network byte order.
struct StunAddress {
  bool ipv6 = false;
  std::array<uint8_t, 16> ip{};  // first 4 bytes for IPv4
  uint16_t port = 0;
  // How the address was reached (rtc::Via: UDP, ICE-TCP, TURN); not encoded, since
  // XOR-MAPPED-ADDRESS carries no transport, but the same ip:port via two transports are
  // different candidates.
  uint8_t via = 0;
  bool operator==(const StunAddress&) const = default;
};

class StunMessageView {
 public:
  // Validates the header (zero top bits, magic cookie, length multiple of 4 and equal to the
  // remaining bytes) and every attribute's length. nullopt for anything malformed.
  static std::optional<StunMessageView> parse(std::span<const uint8_t> data);

  uint16_t method() const { return method_; }
  StunClass message_class() const { return class_; }
  std::span<const uint8_t, 12> transaction_id() const {
    return std::span<const uint8_t, 12>(data_.data() + 8, 12);
  }
  std::span<const uint8_t> bytes() const { return data_; }

  // First attribute of the given type (before MESSAGE-INTEGRITY/FINGERPRINT rules apply).
  std::optional<std::span<const uint8_t>> attribute(uint16_t type) const;
  std::string_view username() const;
  std::optional<uint32_t> priority() const;
  bool use_candidate() const { return attribute(stun_attr::kUseCandidate).has_value(); }
  std::optional<uint64_t> ice_controlling() const;
  std::optional<uint64_t> ice_controlled() const;
  std::optional<StunAddress> xor_mapped_address() const;
  // Any XOR-encoded address attribute (XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS of TURN).
  std::optional<StunAddress> xor_address(uint16_t type) const;
  std::optional<uint16_t> error_code() const;

  bool has_integrity() const { return integrity_offset_ != 0; }
  bool has_fingerprint() const { return fingerprint_offset_ != 0; }
  // HMAC-SHA1 check with the short-term credential `key` (the ICE password). False if absent.
  bool check_integrity(std::string_view key) const;
  // CRC-32 check of FINGERPRINT (which must be last). False if absent.
  bool check_fingerprint() const;

 private:
  std::span<const uint8_t> data_;
  uint16_t method_ = 0;
  StunClass class_ = StunClass::kRequest;
  size_t integrity_offset_ = 0;    // offset of the MESSAGE-INTEGRITY attribute header
  size_t fingerprint_offset_ = 0;  // offset of the FINGERPRINT attribute header
};

// Writes a STUN message into `buffer`. Each add_* returns false (and leaves the message
// unchanged) when the buffer is too small; size() is the message length so far.
class StunMessageBuilder {
 public:
  StunMessageBuilder(std::span<uint8_t> buffer, uint16_t method, StunClass cls,
                     std::span<const uint8_t, 12> transaction_id);

  bool add_attribute(uint16_t type, std::span<const uint8_t> value);
  bool add_string(uint16_t type, std::string_view value);
  bool add_u32(uint16_t type, uint32_t value);
  bool add_u64(uint16_t type, uint64_t value);
  bool add_xor_mapped_address(const StunAddress& address);
  bool add_xor_address(uint16_t type, const StunAddress& address);
  bool add_error_code(uint16_t code, std::string_view reason);
  // MESSAGE-INTEGRITY over everything so far (HMAC-SHA1 with `key`); add before FINGERPRINT.
  bool add_integrity(std::string_view key);
  bool add_fingerprint();

  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {buffer_.data(), size_}; }
  bool ok() const { return ok_; }

 private:
  bool reserve(size_t attribute_value_length, size_t* value_offset, uint16_t type);
  void set_length(size_t body_length);

  std::span<uint8_t> buffer_;
  size_t size_ = 0;
  bool ok_ = true;
};

// RFC 7983 demultiplexing by first byte, plus the STUN magic cookie check.
bool looks_like_stun(std::span<const uint8_t> data);

}  // namespace parlor::rtc
