#pragma once
// `parlor load`'s books (issue 14): what a subscriber received on each stream, checked two ways.
//
//  * By the subscriber's own sequence numbers (the server rewrites them per subscriber, one
//    number per packet it forwards): 16-bit numbers unwrapped to 64 bits, every gap counted as
//    loss until the packet arrives late, duplicates and late arrivals counted, and the invariant
//    unique + lost == highest − first + 1 held at every step (the books balance).
//  * By the tag every generated packet carries at the end of its payload (PacketTag: which
//    published track, which simulcast layer, the packet's index in that layer): in order of the
//    subscriber's sequence numbers, consecutive packets of one layer must advance the source
//    index exactly as far as the sequence number advanced. A source jump larger than the
//    sequence jump is a packet the server dropped without numbering it (counted as loss too,
//    `server_skipped`), unless the packet starts a keyframe (a layer switch or a resume after a
//    pause: the server chose not to forward the packets between). A source jump smaller than
//    the sequence jump is a packet the server invented (`phantom`): the books do not balance.
//
// Interarrival jitter follows RFC 3550 §6.4.1 / A.8.
//
// Threading: one StreamAccount belongs to one generator thread. No allocation per packet.
#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <span>

namespace parlor::load {

// The last kTagSize bytes of every generated payload:
//   magic "PLT1" (4) | track key (4) | layer (1) | 0 0 0 (3) | index in the layer (4)
// all big-endian. The track key is global across the run (publisher × 2 + 0 audio / 1 video).
struct PacketTag {
  uint32_t track = 0;
  uint8_t layer = 0;
  uint32_t index = 0;
  bool operator==(const PacketTag&) const = default;
};
inline constexpr size_t kTagSize = 16;
inline constexpr uint32_t kTagMagic = 0x504C5431;  // "PLT1"

// Writes the tag into the last kTagSize bytes of `payload` (which must be at least that long).
void write_tag(std::span<uint8_t> payload, const PacketTag& tag);
// The tag at the end of `payload`; nullopt if too short or the magic is wrong.
std::optional<PacketTag> read_tag(std::span<const uint8_t> payload);

// RFC 3550 A.8 interarrival jitter, in RTP timestamp units.
class JitterEstimator {
 public:
  explicit JitterEstimator(uint32_t clock_rate = 90000) : clock_rate_(clock_rate) {}
  void set_clock_rate(uint32_t r) { clock_rate_ = r; }
  void on_packet(uint32_t rtp_timestamp, int64_t arrival_us);
  double jitter_units() const { return jitter_; }
  double jitter_ms() const { return clock_rate_ ? jitter_ * 1000.0 / clock_rate_ : 0; }

 private:
  uint32_t clock_rate_;
  bool started_ = false;
  int64_t last_transit_ = 0;
  double jitter_ = 0;
};

struct StreamCounters {
  uint64_t received = 0;  // every packet, duplicates included
  uint64_t unique = 0;
  uint64_t duplicates = 0;
  uint64_t late = 0;      // arrived after a higher sequence number (filled a gap)
  uint64_t too_late = 0;  // older than the window, or before the first packet: not counted
  uint64_t lost = 0;      // gaps not (yet) filled
  uint64_t bytes = 0;     // payload bytes of unique packets
  // Source checks (tagged packets).
  uint64_t untagged = 0;             // no valid tag (padding, or not ours)
  uint64_t server_skipped = 0;       // source packets skipped without a sequence gap, mid-frame
  uint64_t layer_switches = 0;       // the layer changed (at a keyframe)
  uint64_t resumes = 0;              // same layer, source jumped at a keyframe
  uint64_t phantom = 0;              // sequence advanced further than the source: invented packets
  uint64_t source_reordered = 0;     // source index went backwards (a late repair forwarded anew)
  uint64_t track_changed = 0;        // tag's track differs from the stream's first
  uint64_t timestamp_anomalies = 0;  // RTP timestamp went backwards or jumped > 10 s in order
  uint64_t first_seq = 0, highest_seq = 0;  // extended
  bool started = false;

  uint64_t expected() const { return started ? highest_seq - first_seq + 1 : 0; }
};

class StreamAccount {
 public:
  // Sequence numbers remembered for duplicate and late detection.
  static constexpr size_t kWindow = 4096;

  explicit StreamAccount(uint32_t clock_rate = 90000)
      : clock_rate_(clock_rate), jitter_(clock_rate) {}

  // One received packet. `tag` is its payload tag (null if it had none); `keyframe` whether
  // it starts a keyframe (video).
  void on_packet(uint16_t sequence, uint32_t rtp_timestamp, int64_t arrival_us,
                 size_t payload_bytes, const PacketTag* tag, bool keyframe);

  const StreamCounters& counters() const { return c_; }
  double jitter_ms() const { return jitter_.jitter_ms(); }
  // The track and layer of the last in-order tagged packet, and its index.
  std::optional<PacketTag> last_tag() const { return last_tag_; }
  std::optional<uint32_t> track() const { return track_; }
  // The books: unique + lost == expected, and no invented packets.
  bool balanced() const { return c_.unique + c_.lost == c_.expected() && c_.phantom == 0; }

 private:
  bool seen(uint64_t ext) const { return bits_[ext % kWindow]; }
  void mark(uint64_t ext, bool v) { bits_[ext % kWindow] = v; }
  void check_source(uint64_t ext, const PacketTag& tag, bool keyframe);

  uint32_t clock_rate_;
  StreamCounters c_;
  JitterEstimator jitter_;
  uint64_t last_ext_ = 0;  // unwrapping reference (the highest)
  std::bitset<kWindow> bits_;
  // Source check state: the last in-order tagged packet.
  std::optional<PacketTag> last_tag_;
  uint64_t last_tag_ext_ = 0;
  uint64_t untagged_since_tag_ = 0;
  std::optional<uint32_t> track_;
  std::optional<uint32_t> last_ts_;  // RTP timestamp of the last in-order packet
};

}  // namespace parlor::load
