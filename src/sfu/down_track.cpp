#include "sfu/down_track.hpp"

#include <algorithm>
#include <cstring>

#include "rtc/byte_io.hpp"
#include "sfu/send_side_bwe.hpp"
#include "sfu/up_track.hpp"

namespace parlor::sfu {

namespace {
constexpr uint32_t kVideoFrameTicks = 3000;  // one frame at 30 fps on the 90 kHz clock
constexpr uint32_t kAudioFrameTicks = 960;   // 20 ms of Opus at 48 kHz
// A switch timestamp derived from sender reports must land ahead of the last one sent and not
// absurdly far: beyond this, the reports are stale or inconsistent and the fixed step is safer.
constexpr auto kMaxSwitchGap = std::chrono::seconds(2);

// Nanoseconds in 32.32 fixed-point NTP units and back (RFC 5905 §6).
int64_t ntp_from_ns(int64_t ns) { return static_cast<int64_t>((static_cast<__int128>(ns) << 32) / 1'000'000'000); }
int64_t ticks_from_ntp(int64_t ntp_delta, uint32_t rate) {  // rounded to the nearest tick
  return static_cast<int64_t>((static_cast<__int128>(ntp_delta) * rate + (int64_t{1} << 31)) >> 32);
}
}  // namespace

std::optional<rtc::rtcp::SenderInfo> DownTrack::sender_report(std::chrono::steady_clock::time_point now) const {
  if (!started_ || !source_) return std::nullopt;
  const auto* clock = source_->sender_clock(layer_);
  if (!clock) return std::nullopt;
  int64_t elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - clock->arrival).count();
  rtc::rtcp::SenderInfo info;
  info.ssrc = ssrc_;
  info.ntp_time = clock->ntp + static_cast<uint64_t>(ntp_from_ns(elapsed_ns));
  int64_t ticks = elapsed_ns * static_cast<int64_t>(source_->clock_rate()) / 1'000'000'000;
  info.rtp_time = clock->rtp + static_cast<uint32_t>(ticks) + ts_delta_;
  info.packet_count = static_cast<uint32_t>(packets_ + (rtx_ssrc_ ? 0 : retransmitted_));  // RTX has its own SSRC
  info.octet_count = static_cast<uint32_t>(octets_);
  return info;
}

std::optional<uint32_t> DownTrack::switch_timestamp(const rtc::RtpPacketView& in, int layer) const {
  if (!source_ || layer == layer_) return std::nullopt;
  const auto* from = source_->sender_clock(layer_);
  const auto* to = source_->sender_clock(layer);
  if (!from || !to) return std::nullopt;
  const uint32_t rate = source_->clock_rate();
  // The new packet's capture time on the publisher's NTP clock, then the old layer's timestamp
  // for that instant, then our numbering.
  int64_t ticks_after_to = static_cast<int32_t>(in.timestamp() - to->rtp);
  int64_t ntp_at_packet = static_cast<int64_t>(to->ntp) + (ticks_after_to << 32) / rate;
  int64_t ticks_from_old = ticks_from_ntp(ntp_at_packet - static_cast<int64_t>(from->ntp), rate);
  uint32_t ts = from->rtp + static_cast<uint32_t>(ticks_from_old) + ts_delta_;
  int64_t ahead = static_cast<int32_t>(ts - last_ts_);
  int64_t max_ahead = std::chrono::duration_cast<std::chrono::milliseconds>(kMaxSwitchGap).count() * rate / 1000;
  if (ahead <= 0 || ahead > max_ahead) return std::nullopt;
  return ts;
}

void DownTrack::forward(const rtc::RtpPacketView& in, bool keyframe, bool source_changed, int layer) {
  if (paused_ || congestion_paused_) return;
  if (source_changed) rebase_ = true;
  if (video_ && !started_ && !keyframe) return;
  if (video_ && rebase_ && !keyframe) return;  // switch only at a keyframe of the new source
  if (rebase_) {
    uint16_t next_seq = started_ ? static_cast<uint16_t>(last_seq_ + 1) : in.sequence();
    uint32_t next_ts = in.timestamp();
    if (started_) {
      auto synced = switch_timestamp(in, layer);
      next_ts = synced ? *synced : last_ts_ + (video_ ? kVideoFrameTicks : kAudioFrameTicks);
    }
    seq_delta_ = static_cast<uint16_t>(next_seq - in.sequence());
    ts_delta_ = next_ts - in.timestamp();
    first_mapped_seq_ = next_seq;
    layer_ = layer;
    rebase_ = false;
  }
  bool first = !started_;
  uint16_t seq = static_cast<uint16_t>(in.sequence() + seq_delta_);
  uint32_t ts = in.timestamp() + ts_delta_;
  if (!send_mapped(in, seq, ts)) {
    // Not connected yet: a keyframe that never left does not count as the start.
    if (first) rebase_ = true;
    return;
  }
  started_ = true;
  // Only move forward; late (reordered) packets keep their mapped numbers.
  if (static_cast<int16_t>(seq - last_seq_) > 0 || first) last_seq_ = seq;
  if (static_cast<int32_t>(ts - last_ts_) > 0 || first) last_ts_ = ts;
  ++packets_;
}

bool DownTrack::retransmit(uint16_t sequence, const UpTrack& source) {
  if (!started_ || rebase_) return false;
  // Only sequence numbers of the current mapping, and not ahead of what was sent.
  if (static_cast<int16_t>(sequence - first_mapped_seq_) < 0 || static_cast<int16_t>(last_seq_ - sequence) < 0) {
    return false;
  }
  uint16_t in_seq = static_cast<uint16_t>(sequence - seq_delta_);
  auto cached = source.cached(layer_, in_seq);
  if (!cached || cached->size() > retransmit_scratch_.size()) return false;
  std::memcpy(retransmit_scratch_.data(), cached->data(), cached->size());
  auto in = rtc::RtpPacketView::parse({retransmit_scratch_.data(), cached->size()});
  if (!in) return false;
  uint32_t ts = in->timestamp() + ts_delta_;
  if (!(rtx_ssrc_ ? send_rtx(*in, sequence, ts) : send_mapped(*in, sequence, ts))) return false;
  ++retransmitted_;
  return true;
}

// RFC 4588 §4: the RTX stream's own SSRC, payload type and sequence numbers, the media
// timestamp, and the original sequence number ahead of the original payload (padding dropped).
bool DownTrack::send_rtx(const rtc::RtpPacketView& in, uint16_t seq, uint32_t ts) {
  auto bytes = in.bytes();
  size_t csrc_bytes = 4u * in.csrc_count();
  auto payload = in.payload();
  if (12 + csrc_bytes + kMaxExtensionBytes + 2 + payload.size() > scratch_.size()) return false;
  std::memcpy(scratch_.data(), bytes.data(), 12 + csrc_bytes);
  scratch_[0] &= ~0x30;  // X and P bits off
  size_t ext_bytes = write_transport_sequence(scratch_.data() + 12 + csrc_bytes, scratch_[0]);
  uint8_t* osn = scratch_.data() + 12 + csrc_bytes + ext_bytes;
  osn[0] = static_cast<uint8_t>(seq >> 8);
  osn[1] = static_cast<uint8_t>(seq);
  if (!payload.empty()) std::memcpy(osn + 2, payload.data(), payload.size());
  size_t total = 12 + csrc_bytes + ext_bytes + 2 + payload.size();
  auto out = rtc::RtpPacketView::parse({scratch_.data(), total});
  if (!out) return false;
  out->set_ssrc(rtx_ssrc_);
  out->set_payload_type(rtx_payload_type_);
  out->set_sequence(rtx_seq_);
  out->set_timestamp(ts);
  if (!transport_.send_rtp(out->bytes())) return false;
  if (bwe_) bwe_->on_packet_sent(total, bwe_->now_us());
  ++rtx_seq_;
  return true;
}

// Version 2, P set; the RTX payload type, sequence and SSRC; the last media timestamp sent (the
// receiver's RTX stream discards the packet; its transport feedback counts it); then `padding`
// bytes, zero but the last, which says how many there are.
size_t DownTrack::send_padding(size_t padding) {
  if (!can_pad()) return 0;
  padding = std::clamp<size_t>(padding, 1, kMaxPadding);
  uint8_t* p = scratch_.data();
  p[0] = 0x80 | 0x20;
  p[1] = rtx_payload_type_ & 0x7f;
  p[2] = static_cast<uint8_t>(rtx_seq_ >> 8);
  p[3] = static_cast<uint8_t>(rtx_seq_);
  p[4] = static_cast<uint8_t>(last_ts_ >> 24);
  p[5] = static_cast<uint8_t>(last_ts_ >> 16);
  p[6] = static_cast<uint8_t>(last_ts_ >> 8);
  p[7] = static_cast<uint8_t>(last_ts_);
  p[8] = static_cast<uint8_t>(rtx_ssrc_ >> 24);
  p[9] = static_cast<uint8_t>(rtx_ssrc_ >> 16);
  p[10] = static_cast<uint8_t>(rtx_ssrc_ >> 8);
  p[11] = static_cast<uint8_t>(rtx_ssrc_);
  size_t ext_bytes = write_transport_sequence(p + 12, p[0]);
  uint8_t* pad = p + 12 + ext_bytes;
  std::memset(pad, 0, padding);
  pad[padding - 1] = static_cast<uint8_t>(padding);
  size_t total = 12 + ext_bytes + padding;
  if (!transport_.send_rtp({p, total})) return 0;
  bwe_->on_packet_sent(total, bwe_->now_us());
  ++rtx_seq_;
  ++padding_packets_;
  return total;
}

// The transport-wide sequence number (RFC 8285 §4.2 one-byte form: 0xBEDE, length 1 word, then
// id|len-1 and the 16-bit number) when this subscriber's congestion control is on; the bytes
// written at `at` (0 or 8). Sets the X bit in `first_byte`.
size_t DownTrack::write_transport_sequence(uint8_t* at, uint8_t& first_byte) {
  if (!bwe_) return 0;
  uint16_t transport_seq = bwe_->next_sequence();
  const uint8_t block[8] = {0xBE, 0xDE, 0x00, 0x01, static_cast<uint8_t>(twcc_ext_ << 4 | 1),
                            static_cast<uint8_t>(transport_seq >> 8), static_cast<uint8_t>(transport_seq), 0};
  std::memcpy(at, block, sizeof block);
  first_byte |= 0x10;
  return sizeof block;
}

void DownTrack::set_red(uint8_t payload_type) {
  red_payload_type_ = payload_type;
  if (payload_type && !video_ && !red_history_) red_history_ = std::make_unique<std::array<RedBlock, kRedDistance>>();
}

// RFC 2198 §3: a 4-byte header per redundant block (F=1, the block's payload type, its timestamp
// offset from the primary's (14 bits) and its length (10 bits)), the primary's 1-byte header
// (F=0, payload type), the redundant blocks oldest first, then the primary. Only earlier packets
// of the same mapping, in sequence, within the offset's range.
size_t DownTrack::write_red(uint8_t* at, size_t room, std::span<const uint8_t> primary, uint16_t seq, uint32_t ts) {
  auto& history = *red_history_;
  constexpr uint32_t kMaxOffset = (1u << 14) - 1;
  size_t used = 1 + primary.size();
  std::array<const RedBlock*, kRedDistance> blocks{};
  size_t count = 0;
  for (int i = 0; i < kRedDistance; ++i) {  // oldest first
    const auto& h = history[(red_next_ + i) % kRedDistance];
    uint16_t back = static_cast<uint16_t>(seq - h.seq);
    uint32_t offset = ts - h.ts;
    if (!h.valid || back == 0 || back > kRedDistance || offset == 0 || offset > kMaxOffset) continue;
    if (used + 4 + h.size > room) continue;
    used += 4 + h.size;
    blocks[count++] = &h;
  }
  if (used > room) return 0;
  uint8_t* w = at;
  const uint8_t pt = payload_type_ & 0x7f;
  for (size_t i = 0; i < count; ++i) {
    uint32_t offset = ts - blocks[i]->ts;
    w[0] = 0x80 | pt;
    w[1] = static_cast<uint8_t>(offset >> 6);
    w[2] = static_cast<uint8_t>((offset & 0x3f) << 2 | blocks[i]->size >> 8);
    w[3] = static_cast<uint8_t>(blocks[i]->size);
    w += 4;
  }
  *w++ = pt;
  for (size_t i = 0; i < count; ++i) {
    std::memcpy(w, blocks[i]->data.data(), blocks[i]->size);
    w += blocks[i]->size;
  }
  if (!primary.empty()) std::memcpy(w, primary.data(), primary.size());
  w += primary.size();
  // Remember this one in the oldest entry's place; not a late or repeated one.
  const auto& newest = history[(red_next_ + kRedDistance - 1) % kRedDistance];
  if (newest.valid && static_cast<int16_t>(seq - newest.seq) <= 0) return static_cast<size_t>(w - at);
  auto& last = history[red_next_];
  red_next_ = (red_next_ + 1) % kRedDistance;
  last.valid = primary.size() <= kMaxRedBlock;
  if (last.valid) {
    std::memcpy(last.data.data(), primary.data(), primary.size());
    last.size = static_cast<uint16_t>(primary.size());
    last.seq = seq;
    last.ts = ts;
  }
  return static_cast<size_t>(w - at);
}

// Fixed header and CSRCs, no extension block (or only the transport-wide sequence number), then
// payload and padding unchanged — except Opus RED from the publisher: as is with the subscriber's
// payload types inside, or its primary block alone for a subscriber that takes plain Opus.
bool DownTrack::send_mapped(const rtc::RtpPacketView& in, uint16_t seq, uint32_t ts) {
  auto bytes = in.bytes();
  size_t header = 12 + 4u * in.csrc_count();
  std::span<const uint8_t> body = bytes.subspan(in.header_size());  // payload and padding
  size_t payload_bytes = in.payload().size();
  uint8_t payload_type = payload_type_;
  std::optional<rtc::RedPayload> red;
  if (!video_ && source_ && source_->red_payload_type() && in.payload_type() == source_->red_payload_type()) {
    red = rtc::parse_red(in.payload());
    if (!red) return false;
    if (red_payload_type_) {
      payload_type = red_payload_type_;
    } else {
      body = in.payload().subspan(red->primary_offset);
      payload_bytes = body.size();
    }
  }
  // Plain Opus to a subscriber that takes RED: made into RED here (see set_red).
  const bool make_red = !video_ && red_payload_type_ && red_history_ && !red;
  if (header + kMaxExtensionBytes + body.size() > scratch_.size()) return false;
  std::memcpy(scratch_.data(), bytes.data(), header);
  scratch_[0] &= ~0x10;  // X bit off
  if ((red && !red_payload_type_) || make_red) scratch_[0] &= ~0x20;  // a payload of our making: no padding
  size_t ext_bytes = write_transport_sequence(scratch_.data() + header, scratch_[0]);
  uint8_t* payload = scratch_.data() + header + ext_bytes;
  size_t total = 0;
  if (make_red) {
    payload_bytes = write_red(payload, scratch_.size() - header - ext_bytes, in.payload(), seq, ts);
    if (payload_bytes == 0) return false;
    payload_type = red_payload_type_;
    total = header + ext_bytes + payload_bytes;
  } else {
    std::memcpy(payload, body.data(), body.size());
    if (red && red_payload_type_) rtc::set_red_block_payload_types({payload, payload_bytes}, *red, payload_type_);
    total = header + ext_bytes + body.size();
  }
  auto out = rtc::RtpPacketView::parse({scratch_.data(), total});
  if (!out) return false;
  out->set_ssrc(ssrc_);
  out->set_payload_type(payload_type);
  out->set_sequence(seq);
  out->set_timestamp(ts);
  if (!transport_.send_rtp(out->bytes())) return false;
  if (bwe_) bwe_->on_packet_sent(total, bwe_->now_us());
  octets_ += payload_bytes;
  return true;
}

}  // namespace parlor::sfu
