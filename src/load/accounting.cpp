#include "load/accounting.hpp"

#include <cstdlib>

#include "rtc/byte_io.hpp"

namespace parlor::load {

namespace {
// An in-order RTP timestamp step larger than this many seconds is not a plausible frame step.
constexpr uint32_t kMaxTimestampStepSeconds = 10;
}  // namespace

void write_tag(std::span<uint8_t> payload, const PacketTag& tag) {
  auto t = payload.subspan(payload.size() - kTagSize);
  rtc::write_u32(t, 0, kTagMagic);
  rtc::write_u32(t, 4, tag.track);
  t[8] = tag.layer;
  t[9] = t[10] = t[11] = 0;
  rtc::write_u32(t, 12, tag.index);
}

std::optional<PacketTag> read_tag(std::span<const uint8_t> payload) {
  if (payload.size() < kTagSize) return std::nullopt;
  auto t = payload.subspan(payload.size() - kTagSize);
  if (rtc::read_u32(t, 0) != kTagMagic || t[9] != 0 || t[10] != 0 || t[11] != 0)
    return std::nullopt;
  return PacketTag{rtc::read_u32(t, 4), t[8], rtc::read_u32(t, 12)};
}

void JitterEstimator::on_packet(uint32_t rtp_timestamp, int64_t arrival_us) {
  // Arrival in RTP units, modulo 2^32 like the timestamp; only differences matter.
  auto arrival = static_cast<uint32_t>(static_cast<__int128>(arrival_us) * clock_rate_ / 1'000'000);
  auto transit = static_cast<int64_t>(static_cast<int32_t>(arrival - rtp_timestamp));
  if (started_) {
    int64_t d = std::llabs(transit - last_transit_);
    jitter_ += (static_cast<double>(d) - jitter_) / 16.0;
  }
  started_ = true;
  last_transit_ = transit;
}

void StreamAccount::on_packet(uint16_t sequence, uint32_t rtp_timestamp, int64_t arrival_us,
                              size_t payload_bytes, const PacketTag* tag, bool keyframe) {
  ++c_.received;
  uint64_t ext = 0;
  bool in_order = false;
  if (!c_.started) {
    // Room below the first number for packets that were reordered before it.
    ext = sequence + (uint64_t{1} << 16);
    c_.started = true;
    c_.first_seq = c_.highest_seq = ext;
    in_order = true;
  } else {
    auto delta = static_cast<int16_t>(sequence - static_cast<uint16_t>(c_.highest_seq));
    ext = c_.highest_seq + delta;
    if (delta > 0) {
      uint64_t gap = static_cast<uint64_t>(delta) - 1;
      c_.lost += gap;
      if (gap >= kWindow) {
        bits_.reset();
      } else {
        for (uint64_t s = c_.highest_seq + 1; s < ext; ++s) mark(s, false);
      }
      c_.highest_seq = ext;
      in_order = true;
    } else if (delta == 0) {
      ++c_.duplicates;
      return;
    } else if (ext < c_.first_seq || c_.highest_seq - ext >= kWindow) {
      ++c_.too_late;
      return;
    } else if (seen(ext)) {
      ++c_.duplicates;
      return;
    } else {
      // A gap filled late: no longer lost.
      --c_.lost;
      ++c_.late;
    }
  }
  mark(ext, true);
  ++c_.unique;
  c_.bytes += payload_bytes;
  jitter_.on_packet(rtp_timestamp, arrival_us);
  if (!in_order) return;
  if (last_ts_) {
    auto step = static_cast<int32_t>(rtp_timestamp - *last_ts_);
    if (step < 0 ||
        static_cast<uint64_t>(step) > uint64_t{kMaxTimestampStepSeconds} * clock_rate_) {
      ++c_.timestamp_anomalies;
    }
  }
  last_ts_ = rtp_timestamp;
  if (tag) {
    check_source(ext, *tag, keyframe);
  } else {
    ++c_.untagged;
    ++untagged_since_tag_;
  }
}

void StreamAccount::check_source(uint64_t ext, const PacketTag& tag, bool keyframe) {
  if (!track_) {
    track_ = tag.track;
  } else if (*track_ != tag.track) {
    ++c_.track_changed;
    track_ = tag.track;
    last_tag_.reset();
  }
  if (last_tag_) {
    uint64_t seq_delta = ext - last_tag_ext_ - untagged_since_tag_;
    if (tag.layer != last_tag_->layer) {
      ++c_.layer_switches;
    } else {
      auto src_delta = static_cast<int64_t>(tag.index) - static_cast<int64_t>(last_tag_->index);
      if (src_delta <= 0) {
        // A repaired packet forwarded under a new number: it holds a number but no new index.
        ++c_.source_reordered;
        ++untagged_since_tag_;
        return;
      }
      auto s = static_cast<uint64_t>(src_delta);
      if (s > seq_delta) {
        if (keyframe) {
          ++c_.resumes;
        } else {
          c_.server_skipped += s - seq_delta;
        }
      } else if (s < seq_delta) {
        c_.phantom += seq_delta - s;
      }
    }
  }
  last_tag_ = tag;
  last_tag_ext_ = ext;
  untagged_since_tag_ = 0;
}

}  // namespace parlor::load
