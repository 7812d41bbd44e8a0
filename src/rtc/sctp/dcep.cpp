#include "rtc/sctp/dcep.hpp"

#include <algorithm>
#include <limits>

#include "rtc/byte_io.hpp"

namespace parlor::rtc {
namespace {

bool known_channel_type(uint8_t t) {
  switch (static_cast<DcepChannelType>(t)) {
    case DcepChannelType::kReliable:
    case DcepChannelType::kReliableUnordered:
    case DcepChannelType::kPartialReliableRexmit:
    case DcepChannelType::kPartialReliableRexmitUnordered:
    case DcepChannelType::kPartialReliableTimed:
    case DcepChannelType::kPartialReliableTimedUnordered:
      return true;
  }
  return false;
}

std::string_view as_chars(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

std::optional<DcepMessageType> dcep_message_type(std::span<const uint8_t> data) {
  if (data.empty()) return std::nullopt;
  switch (data[0]) {
    case static_cast<uint8_t>(DcepMessageType::kAck):
      return DcepMessageType::kAck;
    case static_cast<uint8_t>(DcepMessageType::kOpen):
      return DcepMessageType::kOpen;
    default:
      return std::nullopt;
  }
}

std::optional<DcepOpen> parse_dcep_open(std::span<const uint8_t> data) {
  if (data.size() < kDcepOpenHeaderSize) return std::nullopt;
  if (data[0] != static_cast<uint8_t>(DcepMessageType::kOpen)) return std::nullopt;
  if (!known_channel_type(data[1])) return std::nullopt;
  size_t label_length = read_u16(data, 8);
  size_t protocol_length = read_u16(data, 10);
  // Both lengths are at most 65535, so the sum cannot overflow size_t.
  if (data.size() - kDcepOpenHeaderSize != label_length + protocol_length) return std::nullopt;
  DcepOpen open;
  open.channel_type = static_cast<DcepChannelType>(data[1]);
  open.priority = read_u16(data, 2);
  open.reliability_parameter = read_u32(data, 4);
  open.label = as_chars(data.subspan(kDcepOpenHeaderSize, label_length));
  open.protocol = as_chars(data.subspan(kDcepOpenHeaderSize + label_length, protocol_length));
  return open;
}

bool parse_dcep_ack(std::span<const uint8_t> data) {
  return data.size() == kDcepAckSize && data[0] == static_cast<uint8_t>(DcepMessageType::kAck);
}

std::optional<std::vector<uint8_t>> build_dcep_open(const DcepOpen& open) {
  constexpr size_t kMaxField = std::numeric_limits<uint16_t>::max();
  if (open.label.size() > kMaxField || open.protocol.size() > kMaxField) return std::nullopt;
  std::vector<uint8_t> out(kDcepOpenHeaderSize + open.label.size() + open.protocol.size());
  std::span<uint8_t> b(out);
  b[0] = static_cast<uint8_t>(DcepMessageType::kOpen);
  b[1] = static_cast<uint8_t>(open.channel_type);
  write_u16(b, 2, open.priority);
  write_u32(b, 4, open.reliability_parameter);
  write_u16(b, 8, static_cast<uint16_t>(open.label.size()));
  write_u16(b, 10, static_cast<uint16_t>(open.protocol.size()));
  auto it = out.begin() + kDcepOpenHeaderSize;
  it = std::copy(open.label.begin(), open.label.end(), it);
  std::copy(open.protocol.begin(), open.protocol.end(), it);
  return out;
}

std::vector<uint8_t> build_dcep_ack() {
  return {static_cast<uint8_t>(DcepMessageType::kAck)};
}

}  // namespace parlor::rtc
