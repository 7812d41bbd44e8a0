#pragma once
// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
// §3.1): the receiver tells the sender, for a run of transport-wide sequence numbers, which
// packets arrived and when, so the sender's delay-based estimator (Google congestion control)
// can see queues building before loss appears.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |V=2|P|  FMT=15 |    PT=205     |           length              |
//  |                     SSRC of packet sender                     |
//  |                      SSRC of media source                     |
//  |      base sequence number     |      packet status count      |
//  |                 reference time                | fb pkt. count |
//  |          packet chunk         |         packet chunk          |
//  .                              ...                              .
//  |         recv delta            |  recv delta   | zero padding  |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Packet chunks are run-length (T=0: 2-bit symbol, 13-bit run) or status vectors (T=1: fourteen
// 1-bit or seven 2-bit symbols). Symbols: 0 not received, 1 received with a small delta (one
// byte, 0..63.75 ms), 2 received with a large or negative delta (two bytes, signed). Deltas are
// in 250 µs units, each from the previous received packet; the first from the reference time
// (24-bit signed, 64 ms units).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "rtc/rtcp/rtcp_packet.hpp"

namespace parlor::rtc::rtcp {

inline constexpr int64_t kTwccTickUs = 250;
inline constexpr int64_t kTwccReferenceUnitUs = 64000;

// Builds one feedback packet. Packets are added in sequence order starting at the base.
class TwccFeedbackBuilder {
 public:
  // At most this many sequence numbers per packet: with two-byte deltas the packet stays under
  // 700 bytes, well inside one datagram.
  static constexpr size_t kMaxPackets = 256;

  // `reference_us`: arrival time (µs on any monotonic clock) of the first received packet; the
  // reference time is that, truncated to 64 ms.
  TwccFeedbackBuilder(uint16_t base_sequence, int64_t reference_us, uint8_t feedback_count);

  // The next sequence number did not arrive. False when the packet is full.
  bool add_missing();
  // The next sequence number arrived at `arrival_us`. False when the packet is full or the
  // delta from the previous received packet does not fit 16 bits (start a new feedback there).
  bool add_received(int64_t arrival_us);
  size_t packet_count() const { return count_; }

  // Writes the packet; returns its length (0 if `out` is too small or nothing was added).
  size_t build(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc) const;
  static constexpr size_t kMaxSize = 20 + 2 * (kMaxPackets / 7 + 1) + 2 * kMaxPackets + 4;

 private:
  uint16_t base_;
  int32_t reference_;  // 64 ms units
  uint8_t feedback_count_;
  int64_t last_ticks_;
  std::array<uint8_t, kMaxPackets> symbols_{};
  std::array<int16_t, kMaxPackets> deltas_{};
  size_t count_ = 0;
};

// One packet's fate, as a feedback reports it.
struct TwccStatus {
  uint16_t sequence = 0;
  bool received = false;
  int64_t arrival_us = 0;  // on the feedback's clock: reference time + the deltas so far
};

struct TwccFeedback {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  uint16_t base_sequence = 0;
  uint16_t status_count = 0;
  int32_t reference = 0;  // 64 ms units, sign-extended from 24 bits
  uint8_t feedback_count = 0;
  size_t written = 0;  // entries written to the caller's span (min(status_count, its size))
};

// Parses a transport-cc feedback; nullopt if it is not one or is malformed (chunks or deltas
// running past the packet). Statuses beyond `out.size()` are checked but not returned.
std::optional<TwccFeedback> read_twcc(const Header& h, std::span<TwccStatus> out);

}  // namespace parlor::rtc::rtcp
