#include "rtc/sctp/dcep.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace parlor::rtc {
namespace {

// What a browser sends for createDataChannel("_reliable") (LiveKit's reliable channel):
// reliable ordered, priority 256, no protocol.
const std::vector<uint8_t> kReliableOpen = {0x03,                    // DATA_CHANNEL_OPEN
                                            0x00,                    // DATA_CHANNEL_RELIABLE
                                            0x01, 0x00,              // priority 256
                                            0x00, 0x00, 0x00, 0x00,  // reliability parameter
                                            0x00, 0x09,              // label length
                                            0x00, 0x00,              // protocol length
                                            '_',  'r',  'e',  'l',  'i', 'a', 'b', 'l', 'e'};

TEST(Dcep, BuildsReliableOpenByteExact) {
  DcepOpen open;
  open.label = "_reliable";
  auto bytes = build_dcep_open(open);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, kReliableOpen);
}

TEST(Dcep, ParsesReliableOpenAndRoundTrips) {
  ASSERT_EQ(dcep_message_type(kReliableOpen), DcepMessageType::kOpen);
  auto open = parse_dcep_open(kReliableOpen);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->channel_type, DcepChannelType::kReliable);
  EXPECT_TRUE(open->ordered());
  EXPECT_EQ(open->priority, 256);
  EXPECT_EQ(open->reliability_parameter, 0u);
  EXPECT_EQ(open->label, "_reliable");
  EXPECT_EQ(open->protocol, "");
  EXPECT_EQ(build_dcep_open(*open), kReliableOpen);
}

TEST(Dcep, LossyUnorderedOpenWithProtocol) {
  DcepOpen open;
  open.channel_type = DcepChannelType::kPartialReliableRexmitUnordered;
  open.priority = 512;
  open.reliability_parameter = 0;
  open.label = "_lossy";
  open.protocol = "lk";
  auto bytes = build_dcep_open(open);
  ASSERT_TRUE(bytes);
  const std::vector<uint8_t> want = {0x03, 0x81, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06,
                                     0x00, 0x02, '_',  'l',  'o',  's',  's',  'y',  'l',  'k'};
  EXPECT_EQ(*bytes, want);
  auto parsed = parse_dcep_open(*bytes);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->ordered());
  EXPECT_EQ(parsed->label, "_lossy");
  EXPECT_EQ(parsed->protocol, "lk");
  EXPECT_EQ(parsed->priority, 512);
}

TEST(Dcep, TimedReliabilityParameter) {
  DcepOpen open;
  open.channel_type = DcepChannelType::kPartialReliableTimed;
  open.reliability_parameter = 0x01020304;
  open.label = "t";
  auto parsed = parse_dcep_open(*build_dcep_open(open));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->channel_type, DcepChannelType::kPartialReliableTimed);
  EXPECT_EQ(parsed->reliability_parameter, 0x01020304u);
}

TEST(Dcep, Ack) {
  auto ack = build_dcep_ack();
  EXPECT_EQ(ack, std::vector<uint8_t>{0x02});
  EXPECT_EQ(dcep_message_type(ack), DcepMessageType::kAck);
  EXPECT_TRUE(parse_dcep_ack(ack));
  EXPECT_FALSE(parse_dcep_ack(std::vector<uint8_t>{0x02, 0x00}));
  EXPECT_FALSE(parse_dcep_ack(std::vector<uint8_t>{0x03}));
  EXPECT_FALSE(parse_dcep_ack({}));
  EXPECT_FALSE(parse_dcep_open(ack));
}

TEST(Dcep, RejectsMalformedOpens) {
  // Every truncation.
  for (size_t n = 0; n < kReliableOpen.size(); ++n) {
    EXPECT_FALSE(parse_dcep_open(std::span(kReliableOpen).first(n))) << n;
  }
  // Trailing bytes beyond label + protocol.
  auto longer = kReliableOpen;
  longer.push_back('x');
  EXPECT_FALSE(parse_dcep_open(longer));
  // Lengths claiming more than there is, including the 0xFFFF extremes.
  auto lying = kReliableOpen;
  lying[9] = 0x0A;
  EXPECT_FALSE(parse_dcep_open(lying));
  lying[8] = lying[9] = lying[10] = lying[11] = 0xFF;
  EXPECT_FALSE(parse_dcep_open(lying));
  // Unknown channel type and wrong message type.
  auto bad_type = kReliableOpen;
  bad_type[1] = 0x03;
  EXPECT_FALSE(parse_dcep_open(bad_type));
  auto not_open = kReliableOpen;
  not_open[0] = 0x04;
  EXPECT_FALSE(parse_dcep_open(not_open));
  EXPECT_FALSE(dcep_message_type(not_open));
  EXPECT_FALSE(dcep_message_type({}));
}

TEST(Dcep, RefusesOverlongLabel) {
  std::string label(70000, 'a');
  DcepOpen open;
  open.label = label;
  EXPECT_FALSE(build_dcep_open(open));
  label.resize(65535);
  open.label = label;
  auto bytes = build_dcep_open(open);
  ASSERT_TRUE(bytes);
  auto parsed = parse_dcep_open(*bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->label.size(), 65535u);
}

}  // namespace
}  // namespace parlor::rtc
