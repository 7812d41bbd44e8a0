#include "sfu/packet_cache.hpp"

#include <bit>
#include <cstring>

namespace parlor::sfu {

PacketCache::PacketCache(size_t slots) {
  size_t n = std::bit_ceil(slots < 2 ? size_t{2} : slots);
  slots_.resize(n);
  mask_ = n - 1;
}

void PacketCache::store(uint16_t sequence, std::span<const uint8_t> packet) {
  auto& slot = slots_[sequence & mask_];
  if (packet.size() > kMaxPacket) {
    slot.used = false;
    return;
  }
  slot.used = true;
  slot.sequence = sequence;
  slot.size = static_cast<uint16_t>(packet.size());
  std::memcpy(slot.data.data(), packet.data(), packet.size());
}

std::optional<std::span<const uint8_t>> PacketCache::get(uint16_t sequence) const {
  const auto& slot = slots_[sequence & mask_];
  if (!slot.used || slot.sequence != sequence) return std::nullopt;
  return std::span<const uint8_t>(slot.data.data(), slot.size);
}

}  // namespace parlor::sfu
