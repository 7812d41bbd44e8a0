#include "rtc/rtcp/rtcp_packet.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

namespace parlor::rtc::rtcp {
namespace {

std::vector<uint8_t> bytes(std::span<uint8_t> buf, size_t n) { return {buf.begin(), buf.begin() + n}; }

TEST(Rtcp, PliAndFirByteExact) {
  std::array<uint8_t, 64> buf{};
  size_t n = build_pli(buf, 0x01020304, 0x0A0B0C0D);
  EXPECT_EQ(bytes(buf, n), (std::vector<uint8_t>{0x81, 206, 0x00, 0x02, 1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D}));
  CompoundIterator it({buf.data(), n});
  auto h = it.next();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->type, kPayloadFeedback);
  EXPECT_EQ(h->count, kFmtPli);
  EXPECT_EQ(read_feedback_ids(*h)->media_ssrc, 0x0A0B0C0Du);

  n = build_fir(buf, 1, 0xCAFEBABE, 7);
  EXPECT_EQ(bytes(buf, n), (std::vector<uint8_t>{0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0,
                                                 0xCA, 0xFE, 0xBA, 0xBE, 7, 0, 0, 0}));
  CompoundIterator fit({buf.data(), n});
  std::vector<std::pair<uint32_t, uint8_t>> firs;
  ASSERT_TRUE(for_each_fir(*fit.next(), [&](uint32_t s, uint8_t q) { firs.emplace_back(s, q); }));
  EXPECT_EQ(firs, (std::vector<std::pair<uint32_t, uint8_t>>{{0xCAFEBABE, 7}}));
}

TEST(Rtcp, NackRoundTripAcrossWrap) {
  std::vector<uint16_t> lost = {65534, 65535, 0, 3, 17, 40, 40};
  std::array<uint8_t, 128> buf{};
  size_t n = build_nack(buf, 1, 2, lost);
  ASSERT_GT(n, 0u);
  CompoundIterator it({buf.data(), n});
  auto h = it.next();
  ASSERT_TRUE(h);
  std::set<uint16_t> got;
  ASSERT_TRUE(for_each_nack(*h, [&](uint16_t s) { got.insert(s); }));
  EXPECT_EQ(got, (std::set<uint16_t>{65534, 65535, 0, 3, 17, 40}));
  // Three PID/BLP pairs: 65534 (+65535, 0, 3 within 16), then 17 (19 away), then 40.
  EXPECT_EQ(n, 12u + 4u * 3u);
  // Parse → rebuild gives the same bytes.
  std::vector<uint16_t> again(got.begin(), got.end());
  std::array<uint8_t, 128> buf2{};
  EXPECT_EQ(bytes(buf2, build_nack(buf2, 1, 2, again)), bytes(buf, n));
}

TEST(Rtcp, ReportsRoundTrip) {
  ReportBlock b;
  b.ssrc = 0x11111111;
  b.fraction_lost = 25;
  b.cumulative_lost = -3;
  b.highest_sequence = 0x00010005;
  b.jitter = 99;
  b.last_sr = 0xABCDEF01;
  b.delay_since_last_sr = 65536;
  SenderInfo s{0x22222222, 0x0102030405060708ull, 90000, 10, 12000};
  std::array<uint8_t, 256> buf{};
  size_t n1 = build_sender_report(buf, s, {&b, 1});
  size_t n2 = build_receiver_report(std::span(buf).subspan(n1), 0x33333333, {&b, 1});
  size_t n3 = build_sdes_cname(std::span(buf).subspan(n1 + n2), 0x22222222, "parlor-cname");
  std::array<uint32_t, 2> gone{0x22222222, 0x33333333};
  size_t n4 = build_bye(std::span(buf).subspan(n1 + n2 + n3), gone);
  CompoundIterator it({buf.data(), n1 + n2 + n3 + n4});
  auto sr = it.next();
  ASSERT_TRUE(sr);
  auto info = read_sender_report(*sr);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->ntp_time, s.ntp_time);
  EXPECT_EQ(info->octet_count, 12000u);
  auto block = read_report_block(*sr, 0);
  ASSERT_TRUE(block);
  EXPECT_EQ(block->cumulative_lost, -3);
  EXPECT_EQ(block->delay_since_last_sr, 65536u);
  EXPECT_FALSE(read_report_block(*sr, 1));
  auto rr = it.next();
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->type, kReceiverReport);
  EXPECT_EQ(read_report_block(*rr, 0)->jitter, 99u);
  auto sdes = it.next();
  ASSERT_TRUE(sdes);
  EXPECT_EQ(sdes->type, kSdes);
  EXPECT_EQ(sdes->packet.size() % 4, 0u);
  auto bye = it.next();
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->count, 2);
  EXPECT_FALSE(it.next());
  EXPECT_TRUE(it.valid());
}

TEST(Rtcp, RembEncodesMantissaAndExponent) {
  std::array<uint8_t, 64> buf{};
  std::array<uint32_t, 2> ssrcs{5, 6};
  size_t n = build_remb(buf, 1, 1'500'000, ssrcs);
  CompoundIterator it({buf.data(), n});
  auto r = read_remb(*it.next());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ssrc_count, 2);
  // 1.5 Mb/s needs an exponent: the value survives to within the mantissa's precision.
  EXPECT_LE(r->bitrate_bps, 1'500'000u);
  EXPECT_GT(r->bitrate_bps, 1'500'000u - 8);
}

TEST(Rtcp, LyingLengthsStopIteration) {
  std::array<uint8_t, 64> buf{};
  size_t n = build_pli(buf, 1, 2);
  buf[3] = 9;  // claims 40 bytes
  CompoundIterator it({buf.data(), n});
  EXPECT_FALSE(it.next());
  EXPECT_FALSE(it.valid());
  std::vector<uint8_t> v1 = {0x41, 201, 0, 1, 0, 0, 0, 1};  // version 1
  CompoundIterator it2(v1);
  EXPECT_FALSE(it2.next());
  EXPECT_FALSE(it2.valid());
  // A RR that claims more blocks than it carries yields no block.
  std::vector<uint8_t> rr = {0x82, 201, 0, 1, 0, 0, 0, 1};
  CompoundIterator it3(rr);
  auto h = it3.next();
  ASSERT_TRUE(h);
  EXPECT_FALSE(read_report_block(*h, 0));
}

TEST(Rtcp, RandomBytesNeverCrash) {
  std::mt19937 rng(8);
  std::vector<uint8_t> buf(200);
  for (int i = 0; i < 30000; ++i) {
    size_t n = rng() % buf.size();
    for (size_t j = 0; j < n; ++j) buf[j] = static_cast<uint8_t>(rng());
    if (n) buf[0] = static_cast<uint8_t>(0x80 | (buf[0] & 0x3F));
    CompoundIterator it({buf.data(), n});
    while (auto h = it.next()) {
      (void)read_sender_report(*h);
      for (uint8_t k = 0; k < 32; ++k) (void)read_report_block(*h, k);
      (void)read_remb(*h);
      for_each_nack(*h, [](uint16_t) {});
      for_each_fir(*h, [](uint32_t, uint8_t) {});
    }
  }
}

}  // namespace
}  // namespace parlor::rtc::rtcp
