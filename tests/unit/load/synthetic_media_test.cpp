// parlor load's pre-encoded media (src/load/synthetic_media.hpp): what the server's parsers see.
#include "load/synthetic_media.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "rtc/codecs/codecs.hpp"
#include "rtc/rtp/rtp_packet.hpp"

namespace parlor::load {
namespace {

constexpr size_t kMax = 1160;

TEST(Vp8Packetizer, KeyframeStartIsRecognisedByTheServersDetector) {
  Vp8FrameSpec f{true, 0x1234, 3 * 7083, 1280, 720};
  size_t count = vp8_packet_count(f, kMax);
  ASSERT_GE(count, 19u);
  std::array<uint8_t, 1500> buf{};
  for (size_t i = 0; i < count; ++i) {
    PacketTag tag{3, 2, static_cast<uint32_t>(40 + i)};
    size_t len = write_vp8_payload(buf, f, i, count, kMax, tag);
    ASSERT_GT(len, kTagSize);
    ASSERT_LE(len, kMax);
    auto payload = std::span<const uint8_t>(buf.data(), len);
    auto d = rtc::parse_vp8_descriptor(payload);
    ASSERT_TRUE(d) << i;
    EXPECT_EQ(d->picture_id, 0x1234);
    EXPECT_TRUE(d->picture_id_15bit);
    EXPECT_EQ(d->start_of_partition, i == 0);
    EXPECT_EQ(rtc::starts_keyframe(rtc::Codec::kVp8, payload), i == 0) << i;
    auto back = read_tag(payload);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, tag);
  }
}

TEST(Vp8Packetizer, InterframesAreNotKeyframes) {
  Vp8FrameSpec f{false, 7, 2083, 640, 360};
  size_t count = vp8_packet_count(f, kMax);
  EXPECT_EQ(count, 2u);
  std::array<uint8_t, 1500> buf{};
  for (size_t i = 0; i < count; ++i) {
    size_t len = write_vp8_payload(buf, f, i, count, kMax, {1, 1, 0});
    auto payload = std::span<const uint8_t>(buf.data(), len);
    EXPECT_FALSE(rtc::starts_keyframe(rtc::Codec::kVp8, payload));
    auto d = rtc::parse_vp8_descriptor(payload);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->start_of_partition, i == 0);
  }
}

TEST(Vp8Packetizer, FrameBytesAreSplitIntoPacketsThatAddUp) {
  for (size_t bytes : {100u, 625u, 1159u, 2083u, 7083u, 21249u}) {
    for (bool key : {false, true}) {
      Vp8FrameSpec f{key, 1, bytes, 320, 180};
      size_t count = vp8_packet_count(f, kMax);
      std::array<uint8_t, 1500> buf{};
      size_t total = 0;
      for (size_t i = 0; i < count; ++i) {
        size_t len = write_vp8_payload(buf, f, i, count, kMax, {1, 0, 0});
        ASSERT_GT(len, 0u);
        ASSERT_LE(len, kMax);
        total += len - 4 - kTagSize;  // minus descriptor and tag
      }
      EXPECT_EQ(total, bytes + (key ? 10 : 3)) << bytes << " key=" << key;
    }
  }
}

TEST(RtpHeader, ExtensionsParseBackWithOurIds) {
  std::array<uint8_t, 1500> buf{};
  RtpHeaderSpec h;
  h.payload_type = 96;
  h.marker = true;
  h.sequence = 65535;
  h.timestamp = 0xDEADBEEF;
  h.ssrc = 0x01020304;
  h.mid = "1";
  h.rid = "f";
  h.transport_cc = true;
  h.transport_sequence = 0xABCD;
  size_t header = write_rtp_header(buf, h);
  ASSERT_GT(header, 12u);
  size_t payload = write_opus_payload(std::span(buf).subspan(header), 100, {2, 0, 9});
  ASSERT_EQ(payload, 100u);
  auto view = rtc::RtpPacketView::parse(std::span(buf.data(), header + payload));
  ASSERT_TRUE(view);
  EXPECT_TRUE(view->marker());
  EXPECT_EQ(view->payload_type(), 96);
  EXPECT_EQ(view->sequence(), 65535);
  EXPECT_EQ(view->timestamp(), 0xDEADBEEFu);
  EXPECT_EQ(view->ssrc(), 0x01020304u);
  auto mid = view->extension(kExtMidId);
  ASSERT_TRUE(mid);
  EXPECT_EQ(std::string(mid->begin(), mid->end()), "1");
  auto rid = view->extension(kExtRidId);
  ASSERT_TRUE(rid);
  EXPECT_EQ(std::string(rid->begin(), rid->end()), "f");
  auto tcc = view->extension(kExtTransportCcId);
  ASSERT_TRUE(tcc);
  ASSERT_EQ(tcc->size(), 2u);
  EXPECT_EQ(((*tcc)[0] << 8) | (*tcc)[1], 0xABCD);
  EXPECT_EQ(view->payload().size(), 100u);
  EXPECT_EQ(read_tag(view->payload())->index, 9u);
}

TEST(RtpHeader, WithoutExtensionsIsTwelveBytes) {
  std::array<uint8_t, 64> buf{};
  RtpHeaderSpec h;
  h.payload_type = 111;
  EXPECT_EQ(write_rtp_header(buf, h), 12u);
  EXPECT_EQ(buf[0], 0x80);
  EXPECT_EQ(write_rtp_header(std::span(buf).first(8), h), 0u);
}

}  // namespace
}  // namespace parlor::load
