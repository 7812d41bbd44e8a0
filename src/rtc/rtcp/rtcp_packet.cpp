#include "rtc/rtcp/rtcp_packet.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "rtc/byte_io.hpp"

namespace parlor::rtc::rtcp {
namespace {

constexpr size_t kHeader = 4;
constexpr size_t kReportBlockSize = 24;
constexpr size_t kSenderInfoSize = 20;  // after the SSRC: NTP(8) RTP(4) packets(4) octets(4)
constexpr uint32_t kRembId = 0x52454D42;  // "REMB"
constexpr uint8_t kSdesCname = 1;
constexpr uint32_t kMaxRembMantissa = (1u << 18) - 1;

void write_header(std::span<uint8_t> out, uint8_t count, uint8_t type, size_t length_bytes) {
  out[0] = static_cast<uint8_t>(0x80 | (count & 0x1F));
  out[1] = type;
  write_u16(out, 2, static_cast<uint16_t>(length_bytes / 4 - 1));
}

void write_block(std::span<uint8_t> out, size_t at, const ReportBlock& b) {
  write_u32(out, at, b.ssrc);
  out[at + 4] = b.fraction_lost;
  uint32_t lost = static_cast<uint32_t>(b.cumulative_lost) & 0xFFFFFF;
  out[at + 5] = static_cast<uint8_t>(lost >> 16);
  out[at + 6] = static_cast<uint8_t>(lost >> 8);
  out[at + 7] = static_cast<uint8_t>(lost);
  write_u32(out, at + 8, b.highest_sequence);
  write_u32(out, at + 12, b.jitter);
  write_u32(out, at + 16, b.last_sr);
  write_u32(out, at + 20, b.delay_since_last_sr);
}

}  // namespace

uint16_t read_be16(std::span<const uint8_t> b, size_t at) { return read_u16(b, at); }
uint32_t read_be32(std::span<const uint8_t> b, size_t at) { return read_u32(b, at); }

std::optional<Header> CompoundIterator::next() {
  if (!valid_ || rest_.size() < kHeader) {
    if (!rest_.empty()) valid_ = false;
    return std::nullopt;
  }
  if ((rest_[0] >> 6) != 2) {
    valid_ = false;
    return std::nullopt;
  }
  size_t length = (size_t{read_u16(rest_, 2)} + 1) * 4;
  if (length > rest_.size()) {
    valid_ = false;
    return std::nullopt;
  }
  Header h;
  h.count = rest_[0] & 0x1F;
  h.type = rest_[1];
  h.packet = rest_.first(length);
  if (rest_[0] & 0x20) {  // padding: last byte counts it, header excluded
    size_t pad = h.packet.back();
    if (pad == 0 || pad > length - kHeader) {
      valid_ = false;
      return std::nullopt;
    }
    h.packet = h.packet.first(length - pad);
  }
  rest_ = rest_.subspan(length);
  return h;
}

std::optional<SenderInfo> read_sender_report(const Header& h) {
  if (h.type != kSenderReport || h.packet.size() < kHeader + 4 + kSenderInfoSize) return std::nullopt;
  SenderInfo s;
  s.ssrc = read_u32(h.packet, 4);
  s.ntp_time = read_u64(h.packet, 8);
  s.rtp_time = read_u32(h.packet, 16);
  s.packet_count = read_u32(h.packet, 20);
  s.octet_count = read_u32(h.packet, 24);
  return s;
}

std::optional<ReportBlock> read_report_block(const Header& h, uint8_t i) {
  size_t first;
  if (h.type == kSenderReport) {
    first = kHeader + 4 + kSenderInfoSize;
  } else if (h.type == kReceiverReport) {
    first = kHeader + 4;
  } else {
    return std::nullopt;
  }
  size_t at = first + size_t{i} * kReportBlockSize;
  if (i >= h.count || at + kReportBlockSize > h.packet.size()) return std::nullopt;
  ReportBlock b;
  b.ssrc = read_u32(h.packet, at);
  b.fraction_lost = h.packet[at + 4];
  uint32_t lost = read_u24(h.packet, at + 5);
  b.cumulative_lost = (lost & 0x800000) ? static_cast<int32_t>(lost | 0xFF000000) : static_cast<int32_t>(lost);
  b.highest_sequence = read_u32(h.packet, at + 8);
  b.jitter = read_u32(h.packet, at + 12);
  b.last_sr = read_u32(h.packet, at + 16);
  b.delay_since_last_sr = read_u32(h.packet, at + 20);
  return b;
}

std::optional<FeedbackIds> read_feedback_ids(const Header& h) {
  if ((h.type != kRtpFeedback && h.type != kPayloadFeedback) || h.packet.size() < 12) return std::nullopt;
  return FeedbackIds{read_u32(h.packet, 4), read_u32(h.packet, 8)};
}

std::optional<Remb> read_remb(const Header& h) {
  if (h.type != kPayloadFeedback || h.count != kFmtAfb || h.packet.size() < 20 ||
      read_u32(h.packet, 12) != kRembId) {
    return std::nullopt;
  }
  Remb r;
  r.ssrc_count = h.packet[16];
  uint8_t exp = h.packet[17] >> 2;
  uint32_t mantissa = (uint32_t{static_cast<uint8_t>(h.packet[17] & 0x03)} << 16) | read_u16(h.packet, 18);
  if (exp > 46) return std::nullopt;  // would overflow 64 bits
  r.bitrate_bps = uint64_t{mantissa} << exp;
  if (h.packet.size() < 20 + size_t{r.ssrc_count} * 4) return std::nullopt;
  r.ssrcs = h.packet.subspan(20, size_t{r.ssrc_count} * 4);
  return r;
}

size_t build_pli(std::span<uint8_t> out, uint32_t sender, uint32_t media) {
  if (out.size() < 12) return 0;
  write_header(out, kFmtPli, kPayloadFeedback, 12);
  write_u32(out, 4, sender);
  write_u32(out, 8, media);
  return 12;
}

size_t build_fir(std::span<uint8_t> out, uint32_t sender, uint32_t media, uint8_t seq_nr) {
  if (out.size() < 20) return 0;
  write_header(out, kFmtFir, kPayloadFeedback, 20);
  write_u32(out, 4, sender);
  write_u32(out, 8, 0);  // RFC 5104 §4.3.1.2: media source SSRC unused, set to 0
  write_u32(out, 12, media);
  out[16] = seq_nr;
  out[17] = out[18] = out[19] = 0;
  return 20;
}

size_t build_nack(std::span<uint8_t> out, uint32_t sender, uint32_t media,
                  std::span<const uint16_t> sequences) {
  if (sequences.empty() || out.size() < 16) return 0;
  // Sort in wrap-aware order relative to the first so PID/BLP groups are contiguous.
  std::array<uint16_t, 512> sorted{};
  size_t n = std::min(sequences.size(), sorted.size());
  std::copy_n(sequences.begin(), n, sorted.begin());
  uint16_t base = sorted[0];
  for (size_t i = 1; i < n; ++i) base = static_cast<int16_t>(sorted[i] - base) < 0 ? sorted[i] : base;
  std::sort(sorted.begin(), sorted.begin() + n,
            [base](uint16_t a, uint16_t b) { return uint16_t(a - base) < uint16_t(b - base); });
  size_t at = 12;
  size_t i = 0;
  while (i < n) {
    if (out.size() < at + 4) return 0;
    uint16_t pid = sorted[i++];
    uint16_t blp = 0;
    while (i < n) {
      uint16_t d = static_cast<uint16_t>(sorted[i] - pid);
      if (d == 0) {
        ++i;
        continue;
      }
      if (d > 16) break;
      blp = static_cast<uint16_t>(blp | (1u << (d - 1)));
      ++i;
    }
    write_u16(out, at, pid);
    write_u16(out, at + 2, blp);
    at += 4;
  }
  write_header(out, kFmtNack, kRtpFeedback, at);
  write_u32(out, 4, sender);
  write_u32(out, 8, media);
  return at;
}

size_t build_receiver_report(std::span<uint8_t> out, uint32_t sender,
                             std::span<const ReportBlock> blocks) {
  size_t len = 8 + blocks.size() * kReportBlockSize;
  if (blocks.size() > 31 || out.size() < len) return 0;
  write_header(out, static_cast<uint8_t>(blocks.size()), kReceiverReport, len);
  write_u32(out, 4, sender);
  for (size_t i = 0; i < blocks.size(); ++i) write_block(out, 8 + i * kReportBlockSize, blocks[i]);
  return len;
}

size_t build_sender_report(std::span<uint8_t> out, const SenderInfo& s,
                           std::span<const ReportBlock> blocks) {
  size_t len = 8 + kSenderInfoSize + blocks.size() * kReportBlockSize;
  if (blocks.size() > 31 || out.size() < len) return 0;
  write_header(out, static_cast<uint8_t>(blocks.size()), kSenderReport, len);
  write_u32(out, 4, s.ssrc);
  write_u64(out, 8, s.ntp_time);
  write_u32(out, 16, s.rtp_time);
  write_u32(out, 20, s.packet_count);
  write_u32(out, 24, s.octet_count);
  for (size_t i = 0; i < blocks.size(); ++i) write_block(out, 28 + i * kReportBlockSize, blocks[i]);
  return len;
}

size_t build_remb(std::span<uint8_t> out, uint32_t sender, uint64_t bitrate,
                  std::span<const uint32_t> ssrcs) {
  size_t len = 20 + ssrcs.size() * 4;
  if (ssrcs.size() > 255 || out.size() < len) return 0;
  uint8_t exp = 0;
  while ((bitrate >> exp) > kMaxRembMantissa) ++exp;
  uint32_t mantissa = static_cast<uint32_t>(bitrate >> exp);
  write_header(out, kFmtAfb, kPayloadFeedback, len);
  write_u32(out, 4, sender);
  write_u32(out, 8, 0);
  write_u32(out, 12, kRembId);
  out[16] = static_cast<uint8_t>(ssrcs.size());
  out[17] = static_cast<uint8_t>((exp << 2) | (mantissa >> 16));
  write_u16(out, 18, static_cast<uint16_t>(mantissa));
  for (size_t i = 0; i < ssrcs.size(); ++i) write_u32(out, 20 + i * 4, ssrcs[i]);
  return len;
}

size_t build_sdes_cname(std::span<uint8_t> out, uint32_t ssrc, std::string_view cname) {
  if (cname.size() > 255) return 0;
  // chunk: SSRC, CNAME item (type, length, text), then at least one null, padded to 4.
  size_t chunk = 4 + 2 + cname.size() + 1;
  chunk = (chunk + 3) & ~size_t{3};
  size_t len = 4 + chunk;
  if (out.size() < len) return 0;
  std::memset(out.data(), 0, len);
  write_header(out, 1, kSdes, len);
  write_u32(out, 4, ssrc);
  out[8] = kSdesCname;
  out[9] = static_cast<uint8_t>(cname.size());
  std::memcpy(out.data() + 10, cname.data(), cname.size());
  return len;
}

size_t build_bye(std::span<uint8_t> out, std::span<const uint32_t> ssrcs) {
  size_t len = 4 + ssrcs.size() * 4;
  if (ssrcs.size() > 31 || out.size() < len) return 0;
  write_header(out, static_cast<uint8_t>(ssrcs.size()), kBye, len);
  for (size_t i = 0; i < ssrcs.size(); ++i) write_u32(out, 4 + i * 4, ssrcs[i]);
  return len;
}

}  // namespace parlor::rtc::rtcp
