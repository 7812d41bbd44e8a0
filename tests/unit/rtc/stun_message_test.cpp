#include "rtc/stun/stun_message.hpp"

#include <gtest/gtest.h>
#include <openssl/md5.h>

#include <random>
#include <vector>

namespace parlor::rtc {
namespace {

// RFC 5769 §2.1–2.4 test vectors.
const std::vector<uint8_t> kRequest = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};
const std::vector<uint8_t> kIpv4Response = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};
const std::vector<uint8_t> kIpv6Response = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};
const std::vector<uint8_t> kLongTermRequest = {
    0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0,
    0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83,
    0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00, 0x15, 0x00, 0x1c,
    0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36, 0x4f, 0x4c, 0x33, 0x34,
    0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73, 0x41, 0x00, 0x14, 0x00, 0x0b,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x08, 0x00, 0x14,
    0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02, 0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2,
    0x8c, 0xa8, 0x96, 0x66};
constexpr std::string_view kPassword = "VOkJxbRl1RmTxUk/WvJxBt";

TEST(StunMessage, Rfc5769SampleRequest) {
  auto m = StunMessageView::parse(kRequest);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->method(), kStunBindingMethod);
  EXPECT_EQ(m->message_class(), StunClass::kRequest);
  EXPECT_EQ(m->username(), "evtj:h6vY");
  EXPECT_EQ(m->priority(), 0x6e0001ffu);
  EXPECT_EQ(m->ice_controlled(), 0x932ff9b151263b36ull);
  EXPECT_FALSE(m->ice_controlling());
  EXPECT_FALSE(m->use_candidate());
  EXPECT_TRUE(m->check_integrity(kPassword));
  EXPECT_FALSE(m->check_integrity("wrong password"));
  EXPECT_TRUE(m->check_fingerprint());
}

TEST(StunMessage, Rfc5769Ipv4AndIpv6Responses) {
  auto v4 = StunMessageView::parse(kIpv4Response);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->message_class(), StunClass::kSuccess);
  auto a = v4->xor_mapped_address();
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->ipv6);
  EXPECT_EQ(a->port, 32853);
  EXPECT_EQ((std::vector<uint8_t>(a->ip.begin(), a->ip.begin() + 4)), (std::vector<uint8_t>{192, 0, 2, 1}));
  EXPECT_TRUE(v4->check_integrity(kPassword));
  EXPECT_TRUE(v4->check_fingerprint());

  auto v6 = StunMessageView::parse(kIpv6Response);
  ASSERT_TRUE(v6);
  auto b = v6->xor_mapped_address();
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->ipv6);
  EXPECT_EQ(b->port, 32853);
  const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
  EXPECT_TRUE(std::equal(b->ip.begin(), b->ip.end(), want));
  EXPECT_TRUE(v6->check_integrity(kPassword));
  EXPECT_TRUE(v6->check_fingerprint());
}

TEST(StunMessage, Rfc5769LongTermCredentials) {
  auto m = StunMessageView::parse(kLongTermRequest);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->has_fingerprint());
  // Long-term key = MD5(username ":" realm ":" SASLprep(password)).
  std::string input = std::string(m->username()) + ":example.org:TheMatrIX";
  unsigned char key[MD5_DIGEST_LENGTH];
  MD5(reinterpret_cast<const unsigned char*>(input.data()), input.size(), key);
  EXPECT_TRUE(m->check_integrity({reinterpret_cast<char*>(key), sizeof(key)}));
}

TEST(StunMessage, BuilderReproducesTheIpv4ResponseByteForByte) {
  std::vector<uint8_t> buf(200);
  auto tid = std::span<const uint8_t, 12>(kIpv4Response.data() + 8, 12);
  StunMessageBuilder b(buf, kStunBindingMethod, StunClass::kSuccess, tid);
  ASSERT_TRUE(b.add_string(stun_attr::kSoftware, "test vector"));
  buf[b.size() - 1] = 0x20;  // the RFC pads SOFTWARE with a space; we pad with zero
  StunAddress addr;
  addr.ip[0] = 192, addr.ip[1] = 0, addr.ip[2] = 2, addr.ip[3] = 1;
  addr.port = 32853;
  ASSERT_TRUE(b.add_xor_mapped_address(addr));
  ASSERT_TRUE(b.add_integrity(kPassword));
  ASSERT_TRUE(b.add_fingerprint());
  EXPECT_EQ(std::vector<uint8_t>(b.bytes().begin(), b.bytes().end()), kIpv4Response);
}

TEST(StunMessage, BuilderRoundTripsAnIceCheck) {
  std::array<uint8_t, 12> tid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::vector<uint8_t> buf(512);
  StunMessageBuilder b(buf, kStunBindingMethod, StunClass::kRequest, tid);
  b.add_string(stun_attr::kUsername, "server:client");
  b.add_u32(stun_attr::kPriority, 1853824767);
  b.add_u64(stun_attr::kIceControlling, 0x1122334455667788ull);
  b.add_attribute(stun_attr::kUseCandidate, {});
  b.add_integrity("pwd");
  b.add_fingerprint();
  auto m = StunMessageView::parse(b.bytes());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->username(), "server:client");
  EXPECT_TRUE(m->use_candidate());
  EXPECT_EQ(m->ice_controlling(), 0x1122334455667788ull);
  EXPECT_TRUE(m->check_integrity("pwd"));
  EXPECT_TRUE(m->check_fingerprint());
  EXPECT_TRUE(std::equal(tid.begin(), tid.end(), m->transaction_id().begin()));

  StunMessageBuilder e(buf, kStunBindingMethod, StunClass::kError, tid);
  e.add_error_code(401, "Unauthorized");
  auto err = StunMessageView::parse(e.bytes());
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message_class(), StunClass::kError);
  EXPECT_EQ(err->error_code(), 401);
}

TEST(StunMessage, BuilderRefusesToOverflow) {
  std::array<uint8_t, 12> tid{};
  std::vector<uint8_t> small(24);
  StunMessageBuilder b(small, kStunBindingMethod, StunClass::kRequest, tid);
  EXPECT_FALSE(b.add_string(stun_attr::kUsername, "much too long for the buffer"));
  EXPECT_EQ(b.size(), kStunHeaderSize);
  EXPECT_FALSE(b.add_integrity("k"));
}

TEST(StunMessage, MalformedMessagesAreRejected) {
  auto mutate = [](size_t at, uint8_t v) {
    auto m = kRequest;
    m[at] = v;
    return m;
  };
  EXPECT_FALSE(StunMessageView::parse(std::span(kRequest).first(19)));
  EXPECT_FALSE(StunMessageView::parse(std::span(kRequest).first(kRequest.size() - 4)));  // length lies
  EXPECT_FALSE(StunMessageView::parse(mutate(4, 0x22)));                            // cookie
  EXPECT_FALSE(StunMessageView::parse(mutate(0, 0x80)));                            // top bits
  EXPECT_FALSE(StunMessageView::parse(mutate(3, 0x59)));                            // not /4
  EXPECT_FALSE(StunMessageView::parse(mutate(23, 0xff)));                           // attr overflow
  EXPECT_FALSE(StunMessageView::parse(mutate(79, 0x10)));                           // MI length
  auto tampered = mutate(70, 'X');  // inside USERNAME: integrity and fingerprint must fail
  auto t = StunMessageView::parse(tampered);
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->check_integrity(kPassword));
  EXPECT_FALSE(t->check_fingerprint());
  // Attributes after FINGERPRINT are not allowed.
  auto extra = kRequest;
  extra.insert(extra.end(), {0x80, 0x22, 0x00, 0x00});
  extra[3] = static_cast<uint8_t>(extra.size() - kStunHeaderSize);
  EXPECT_FALSE(StunMessageView::parse(extra));
}

TEST(StunMessage, RandomBytesNeverCrash) {
  std::mt19937 rng(42);
  std::vector<uint8_t> buf(256);
  for (int i = 0; i < 20000; ++i) {
    size_t n = rng() % buf.size();
    for (size_t j = 0; j < n; ++j) buf[j] = static_cast<uint8_t>(rng());
    if (n >= 8) {  // often make it look like STUN so the attribute walker is exercised
      buf[0] &= 0x03;
      buf[4] = 0x21, buf[5] = 0x12, buf[6] = 0xa4, buf[7] = 0x42;
      if (n >= kStunHeaderSize && (i & 1)) {
        n &= ~size_t{3};
        buf[2] = static_cast<uint8_t>((n - kStunHeaderSize) >> 8);
        buf[3] = static_cast<uint8_t>(n - kStunHeaderSize);
      }
    }
    if (auto m = StunMessageView::parse({buf.data(), n})) {
      (void)m->username();
      (void)m->xor_mapped_address();
      (void)m->error_code();
      (void)m->check_integrity("k");
      (void)m->check_fingerprint();
    }
  }
}

TEST(StunMessage, Rfc7983Classification) {
  EXPECT_TRUE(looks_like_stun(kRequest));
  std::vector<uint8_t> dtls(kRequest);
  dtls[0] = 22;  // DTLS handshake record
  EXPECT_FALSE(looks_like_stun(dtls));
}

}  // namespace
}  // namespace parlor::rtc
