#pragma once
// RTCP (RFC 3550 §6, RFC 4585, RFC 5104, draft-alvestrand-rmcat-remb): a validating iterator
// over compound packets, typed readers for the packets an SFU acts on, and builders that write
// into caller buffers. No allocation; readers are views valid while the bytes are.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |V=2|P| count/FMT |      PT       |     length (32-bit words − 1)  |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace parlor::rtc::rtcp {

inline constexpr uint8_t kSenderReport = 200;
inline constexpr uint8_t kReceiverReport = 201;
inline constexpr uint8_t kSdes = 202;
inline constexpr uint8_t kBye = 203;
inline constexpr uint8_t kRtpFeedback = 205;      // RFC 4585 transport-layer FB
inline constexpr uint8_t kPayloadFeedback = 206;  // RFC 4585 payload-specific FB
inline constexpr uint8_t kFmtNack = 1;            // with kRtpFeedback
inline constexpr uint8_t kFmtTransportCc = 15;    // with kRtpFeedback
inline constexpr uint8_t kFmtPli = 1;             // with kPayloadFeedback
inline constexpr uint8_t kFmtFir = 4;             // with kPayloadFeedback
inline constexpr uint8_t kFmtAfb = 15;            // with kPayloadFeedback (REMB)

// One packet of a compound: header fields and the body after the 4-byte header.
struct Header {
  uint8_t count = 0;  // report count, SDES chunk count, or feedback FMT
  uint8_t type = 0;
  std::span<const uint8_t> packet;  // whole packet including header (padding removed)
  std::span<const uint8_t> body() const { return packet.subspan(4); }
};

// Iterates a compound packet. valid() is false once a packet's length overruns the buffer or
// the version is wrong; iteration stops there (the rest of the compound is ignored).
class CompoundIterator {
 public:
  explicit CompoundIterator(std::span<const uint8_t> data) : rest_(data) {}
  std::optional<Header> next();
  bool valid() const { return valid_; }

 private:
  std::span<const uint8_t> rest_;
  bool valid_ = true;
};

struct ReportBlock {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;
  int32_t cumulative_lost = 0;  // 24-bit signed
  uint32_t highest_sequence = 0;
  uint32_t jitter = 0;
  uint32_t last_sr = 0;
  uint32_t delay_since_last_sr = 0;
};

struct SenderInfo {
  uint32_t ssrc = 0;
  uint64_t ntp_time = 0;
  uint32_t rtp_time = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
};

// Readers: nullopt if the packet is not of that kind or is too short for what it declares.
std::optional<SenderInfo> read_sender_report(const Header& h);
// Report block i of an SR or RR (i < h.count).
std::optional<ReportBlock> read_report_block(const Header& h, uint8_t i);
struct FeedbackIds {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
};
std::optional<FeedbackIds> read_feedback_ids(const Header& h);
// Generic NACK: calls fn(seq) for every lost sequence number (PID plus BLP bits).
template <typename Fn>
bool for_each_nack(const Header& h, Fn&& fn);
// FIR entries: calls fn(media_ssrc, seq_nr).
template <typename Fn>
bool for_each_fir(const Header& h, Fn&& fn);
struct Remb {
  uint64_t bitrate_bps = 0;
  uint8_t ssrc_count = 0;
  std::span<const uint8_t> ssrcs;  // ssrc_count × 4 bytes
};
std::optional<Remb> read_remb(const Header& h);

// Builders: each writes one packet at the start of `out` and returns its length, or 0 if it
// does not fit.
size_t build_pli(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc);
size_t build_fir(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t seq_nr);
// NACK for `sequences` (any order; grouped into PID/BLP pairs, at most 16 per pair).
size_t build_nack(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc,
                  std::span<const uint16_t> sequences);
size_t build_receiver_report(std::span<uint8_t> out, uint32_t sender_ssrc,
                             std::span<const ReportBlock> blocks);
size_t build_sender_report(std::span<uint8_t> out, const SenderInfo& info,
                           std::span<const ReportBlock> blocks);
size_t build_remb(std::span<uint8_t> out, uint32_t sender_ssrc, uint64_t bitrate_bps,
                  std::span<const uint32_t> ssrcs);
size_t build_sdes_cname(std::span<uint8_t> out, uint32_t ssrc, std::string_view cname);
size_t build_bye(std::span<uint8_t> out, std::span<const uint32_t> ssrcs);

// ---- template definitions ----

uint16_t read_be16(std::span<const uint8_t> b, size_t at);
uint32_t read_be32(std::span<const uint8_t> b, size_t at);

template <typename Fn>
bool for_each_nack(const Header& h, Fn&& fn) {
  if (h.type != kRtpFeedback || h.count != kFmtNack || h.packet.size() < 12) return false;
  for (size_t at = 12; at + 4 <= h.packet.size(); at += 4) {
    uint16_t pid = read_be16(h.packet, at);
    uint16_t blp = read_be16(h.packet, at + 2);
    fn(pid);
    for (int bit = 0; bit < 16; ++bit) {
      if (blp & (1u << bit)) fn(static_cast<uint16_t>(pid + bit + 1));
    }
  }
  return true;
}

template <typename Fn>
bool for_each_fir(const Header& h, Fn&& fn) {
  if (h.type != kPayloadFeedback || h.count != kFmtFir || h.packet.size() < 12) return false;
  for (size_t at = 12; at + 8 <= h.packet.size(); at += 8) {
    fn(read_be32(h.packet, at), h.packet[at + 4]);
  }
  return true;
}

}  // namespace parlor::rtc::rtcp
