#pragma once
// A bounds-checked view over an RTP packet (RFC 3550 §5.1) with RFC 8285 header extensions.
// Parsing validates every length once; accessors and in-place rewrites then never read or
// write outside the packet. No allocation. The view is valid while its bytes are.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                           timestamp                           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                             SSRC                              |
//  +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
//  |                    CSRC list (CC × 32 bits)                   |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  profile (0xBEDE one-byte, 0x100x two-byte)  |  length (words) |
//  |                     extension elements ...                    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |   payload ...                          | padding | pad count  |
#include <cstdint>
#include <optional>
#include <span>

namespace parlor::rtc {

class RtpPacketView {
 public:
  // nullopt unless: ≥ 12 bytes, version 2, CSRCs and extension inside the packet, and (with the
  // P bit) a padding count between 1 and the bytes after the header.
  static std::optional<RtpPacketView> parse(std::span<uint8_t> data);

  bool marker() const { return (data_[1] & 0x80) != 0; }
  uint8_t payload_type() const { return data_[1] & 0x7F; }
  uint16_t sequence() const;
  uint32_t timestamp() const;
  uint32_t ssrc() const;
  uint8_t csrc_count() const { return data_[0] & 0x0F; }
  size_t header_size() const { return header_size_; }
  size_t padding_size() const { return padding_; }
  std::span<uint8_t> payload() const {
    return data_.subspan(header_size_, data_.size() - header_size_ - padding_);
  }
  std::span<uint8_t> bytes() const { return data_; }

  // Value of the header extension element with this id (1–14 one-byte, 1–255 two-byte).
  std::optional<std::span<uint8_t>> extension(uint8_t id) const;

  void set_marker(bool m);
  void set_payload_type(uint8_t pt);
  void set_sequence(uint16_t seq);
  void set_timestamp(uint32_t ts);
  void set_ssrc(uint32_t ssrc);
  // Overwrites an existing element's value with one of the same length; false otherwise.
  bool set_extension(uint8_t id, std::span<const uint8_t> value);

 private:
  std::span<uint8_t> data_;
  size_t header_size_ = 0;
  size_t extension_offset_ = 0;  // first element byte, 0 = no extension block
  size_t extension_size_ = 0;
  bool two_byte_ = false;
  size_t padding_ = 0;
};

// Widens 16-bit sequence numbers (and, with 32 bits, timestamps) to 64 bits across wraps,
// the way a receiver must before comparing or storing them.
class SequenceUnwrapper {
 public:
  uint64_t unwrap(uint16_t value);

 private:
  bool started_ = false;
  uint64_t last_ = 0;
};

class TimestampUnwrapper {
 public:
  uint64_t unwrap(uint32_t value);

 private:
  bool started_ = false;
  uint64_t last_ = 0;
};

}  // namespace parlor::rtc
