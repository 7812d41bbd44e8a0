#pragma once
// Upstream loss repair (RFC 4585 §6.2.1): for one incoming stream, remembers which sequence
// numbers are missing and says when to ask the sender for them again. A gap is asked for as
// soon as it is seen, then again every retry interval (about a round trip) up to a few times,
// and forgotten once the packet arrives, once it is too old to be of use (the decoder has moved
// on; the subscribers' caches would not hold it either), or when the gap is so large that the
// stream restarted and a keyframe, not retransmission, is the repair.
//
// Threading: one worker thread. Storage is fixed at construction: nothing is allocated per
// packet, and a hostile sender cannot grow it (a gap wider than the table is not tracked).
#include <array>
#include <chrono>
#include <cstdint>
#include <span>

namespace parlor::sfu {

class NackGenerator {
 public:
  using Clock = std::chrono::steady_clock;
  // Sequence numbers tracked at once: about 1 s of 720p video.
  static constexpr size_t kCapacity = 256;

  struct Options {
    Clock::duration retry_interval = std::chrono::milliseconds(100);  // ~ an upstream RTT
    uint8_t max_attempts = 3;
    // Packets this far behind the newest one are no longer worth asking for.
    uint16_t max_age = 512;
  };

  NackGenerator() = default;
  explicit NackGenerator(Options options) : options_(options) {}

  // A packet arrived. Writes the sequence numbers to request now into `out` and returns how
  // many (never more than out.size(); the rest stay due for the next call).
  size_t on_packet(uint16_t sequence, Clock::time_point now, std::span<uint16_t> out);
  // Forget everything (the stream's SSRC changed).
  void reset();

  size_t missing() const { return count_; }
  uint64_t requested() const { return requested_; }  // sequence numbers asked for, in total
  uint64_t recovered() const { return recovered_; }  // of those, how many arrived afterwards
  uint64_t abandoned() const { return abandoned_; }  // given up: too old or out of attempts

 private:
  struct Missing {
    uint16_t sequence = 0;
    uint8_t attempts = 0;
    Clock::time_point last_request{};
  };
  void add(uint16_t sequence);
  void remove_at(size_t i);

  Options options_;
  bool started_ = false;
  uint16_t highest_ = 0;
  std::array<Missing, kCapacity> table_{};  // unordered; the first count_ entries are live
  size_t count_ = 0;
  uint64_t requested_ = 0, recovered_ = 0, abandoned_ = 0;
};

}  // namespace parlor::sfu
