#pragma once
// A ring of recent RTP packets indexed by sequence number, kept to answer NACKs (RFC 4585
// generic NACK) with retransmissions. Storage is allocated once at construction; storing and
// looking up never allocate. A slot remembers its sequence number, so a lookup of a packet that
// has been overwritten (too old) misses instead of returning the wrong packet.
//
// Threading: worker thread only.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace parlor::sfu {

class PacketCache {
 public:
  static constexpr size_t kMaxPacket = 1500;

  // `slots` is rounded up to a power of two.
  explicit PacketCache(size_t slots = 512);

  // Packets larger than kMaxPacket are not kept.
  void store(uint16_t sequence, std::span<const uint8_t> packet);
  std::optional<std::span<const uint8_t>> get(uint16_t sequence) const;
  size_t capacity() const { return slots_.size(); }

 private:
  struct Slot {
    bool used = false;
    uint16_t sequence = 0;
    uint16_t size = 0;
    std::array<uint8_t, kMaxPacket> data;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace parlor::sfu
