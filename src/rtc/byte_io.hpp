#pragma once
// Big-endian reads and writes over byte spans (network order). Callers check lengths first;
// these helpers never allocate and never overlay structs on bytes.
#include <cstddef>
#include <cstdint>
#include <span>

namespace parlor::rtc {

inline uint16_t read_u16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}
inline uint32_t read_u24(std::span<const uint8_t> b, size_t at) {
  return (uint32_t{b[at]} << 16) | (uint32_t{b[at + 1]} << 8) | b[at + 2];
}
inline uint32_t read_u32(std::span<const uint8_t> b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         b[at + 3];
}
inline uint64_t read_u64(std::span<const uint8_t> b, size_t at) {
  return (uint64_t{read_u32(b, at)} << 32) | read_u32(b, at + 4);
}
inline void write_u16(std::span<uint8_t> b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
inline void write_u32(std::span<uint8_t> b, size_t at, uint32_t v) {
  b[at] = static_cast<uint8_t>(v >> 24);
  b[at + 1] = static_cast<uint8_t>(v >> 16);
  b[at + 2] = static_cast<uint8_t>(v >> 8);
  b[at + 3] = static_cast<uint8_t>(v);
}
inline void write_u64(std::span<uint8_t> b, size_t at, uint64_t v) {
  write_u32(b, at, static_cast<uint32_t>(v >> 32));
  write_u32(b, at + 4, static_cast<uint32_t>(v));
}

}  // namespace parlor::rtc
