#pragma once
// The Data Channel Establishment Protocol (RFC 8832): the two control messages that travel on a
// data channel's own SCTP stream with PPID 50 before any user data. Pure functions: a
// bounds-checked parse into a view and a builder. Nothing here touches SCTP.
//
// DATA_CHANNEL_OPEN (RFC 8832 §5.1):
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Message Type |  Channel Type |            Priority           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                    Reliability Parameter                      |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |         Label Length          |       Protocol Length         |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  \                             Label                             /
//  \                            Protocol                           /
//
// DATA_CHANNEL_ACK (RFC 8832 §5.2): the single byte 0x02.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace parlor::rtc {

// SCTP payload protocol identifiers for WebRTC (RFC 8831 §8, RFC 8832 §8.1).
inline constexpr uint32_t kPpidDcep = 50;
inline constexpr uint32_t kPpidString = 51;
inline constexpr uint32_t kPpidBinary = 53;
inline constexpr uint32_t kPpidStringEmpty = 56;  // an empty string, sent as one 0x00 byte
inline constexpr uint32_t kPpidBinaryEmpty = 57;  // an empty binary message, likewise

enum class DcepMessageType : uint8_t { kAck = 0x02, kOpen = 0x03 };

// Channel types (RFC 8832 §5.1); the 0x80 bit means unordered.
enum class DcepChannelType : uint8_t {
  kReliable = 0x00,
  kReliableUnordered = 0x80,
  kPartialReliableRexmit = 0x01,
  kPartialReliableRexmitUnordered = 0x81,
  kPartialReliableTimed = 0x02,
  kPartialReliableTimedUnordered = 0x82,
};

inline constexpr size_t kDcepOpenHeaderSize = 12;
inline constexpr size_t kDcepAckSize = 1;
// Priority of a channel whose application asked for none: "low" in the WebRTC API, the level
// browsers use by default (RFC 8831 §6.4 lists 128/256/512/1024).
inline constexpr uint16_t kDcepDefaultPriority = 256;

// A DATA_CHANNEL_OPEN. When parsed, label and protocol view the parsed bytes and are valid only
// while those are.
struct DcepOpen {
  DcepChannelType channel_type = DcepChannelType::kReliable;
  uint16_t priority = kDcepDefaultPriority;
  // Max retransmissions (REXMIT) or lifetime in ms (TIMED); ignored (and 0) for RELIABLE.
  uint32_t reliability_parameter = 0;
  std::string_view label;
  std::string_view protocol;

  bool ordered() const { return (static_cast<uint8_t>(channel_type) & 0x80) == 0; }
};

// The message type of a DCEP message; nullopt if empty or neither OPEN nor ACK.
std::optional<DcepMessageType> dcep_message_type(std::span<const uint8_t> data);

// Parses an OPEN. nullopt unless the type is 0x03, the channel type is one RFC 8832 defines, and
// label and protocol exactly fill the rest of the message.
std::optional<DcepOpen> parse_dcep_open(std::span<const uint8_t> data);

// True for a well-formed ACK (exactly the one byte 0x02).
bool parse_dcep_ack(std::span<const uint8_t> data);

// Serialises an OPEN; nullopt if label or protocol is longer than a 16-bit length allows.
std::optional<std::vector<uint8_t>> build_dcep_open(const DcepOpen& open);

std::vector<uint8_t> build_dcep_ack();

}  // namespace parlor::rtc
