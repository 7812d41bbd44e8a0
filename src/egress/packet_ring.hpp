#pragma once
// The single-producer / single-consumer ring between the media worker (producer: the recorder's
// tap) and the recorder's thread (consumer). Fixed slots of one datagram each, allocated once at
// construction: push() copies into the next free slot and publishes it with a release store, so
// the worker never locks, blocks or allocates. A full ring drops the packet (counted); the
// recorder treats the hole like network loss (it asks for a keyframe).
//
// Sender reports ride in the same ring (kind kSenderReport) so they stay ordered with the packets
// whose timestamps they describe.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "rtc/net/udp_socket.hpp"

namespace parlor::egress {

class PacketRing {
 public:
  static constexpr size_t kSlotBytes = rtc::UdpSocket::kMaxDatagram;
  enum class Kind : uint8_t { kRtp, kSenderReport };

  struct Slot {
    Kind kind = Kind::kRtp;
    uint16_t size = 0;
    std::array<uint8_t, kSlotBytes> bytes;
  };

  explicit PacketRing(size_t slots) : capacity_(slots < 2 ? 2 : slots), slots_(new Slot[capacity_]) {}
  PacketRing(const PacketRing&) = delete;
  PacketRing& operator=(const PacketRing&) = delete;

  size_t capacity() const { return capacity_; }

  // Producer only. False when the ring is full or the data is larger than a slot.
  bool push(Kind kind, std::span<const uint8_t> data) {
    if (data.size() > kSlotBytes) return false;
    uint64_t head = head_.load(std::memory_order_relaxed);
    uint64_t tail = tail_.load(std::memory_order_acquire);
    if (head - tail >= capacity_) return false;
    Slot& slot = slots_[head % capacity_];
    slot.kind = kind;
    slot.size = static_cast<uint16_t>(data.size());
    if (!data.empty()) std::memcpy(slot.bytes.data(), data.data(), data.size());
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer only: the oldest slot, or nullptr when empty. Valid until pop().
  const Slot* front() const {
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (head_.load(std::memory_order_acquire) == tail) return nullptr;
    return &slots_[tail % capacity_];
  }
  // Consumer only: releases the slot front() returned.
  void pop() { tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

 private:
  const size_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  // Each index on its own cache line: the worker writes head_, the recorder tail_.
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
};

}  // namespace parlor::egress
