#include "rtc/ice/ice_lite_agent.hpp"

#include <gtest/gtest.h>

#include "rtc/ice_checks.hpp"

#include <array>
#include <vector>

namespace parlor::rtc {
namespace {

using Clock = IceLiteAgent::Clock;
using namespace std::chrono_literals;

StunAddress addr(uint8_t last, uint16_t port) {
  StunAddress a;
  a.ip = {127, 0, 0, last};
  a.port = port;
  return a;
}

std::vector<uint8_t> check(const std::string& username, const std::string& pwd, bool nominate,
                           uint8_t tid_seed = 1) {
  return test_support::ice_check(username, pwd, nominate, tid_seed);
}

class IceLite : public ::testing::Test {
 protected:
  IceLiteAgent agent{{"srvufrag", "server-password-0123456789"}, {}};
  std::array<uint8_t, 512> out{};
  Clock::time_point t0 = Clock::now();
};

TEST_F(IceLite, AnswersAValidCheckWithMappedAddressIntegrityAndFingerprint) {
  agent.set_remote({"cli", "client-password"});
  auto req = check("srvufrag:cli", "server-password-0123456789", false);
  size_t n = agent.handle(req, addr(1, 50000), t0, out);
  ASSERT_GT(n, 0u);
  auto res = StunMessageView::parse({out.data(), n});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->message_class(), StunClass::kSuccess);
  EXPECT_TRUE(std::equal(res->transaction_id().begin(), res->transaction_id().end(), req.begin() + 8));
  EXPECT_EQ(res->xor_mapped_address(), addr(1, 50000));
  EXPECT_TRUE(res->check_integrity("server-password-0123456789"));
  EXPECT_TRUE(res->check_fingerprint());
  EXPECT_EQ(agent.state(t0), IceLiteAgent::State::kChecking);
  EXPECT_TRUE(agent.is_validated(addr(1, 50000)));
  EXPECT_FALSE(agent.is_validated(addr(9, 50000)));
}

TEST_F(IceLite, NominationSelectsAndLaterNominationSwitches) {
  agent.handle(check("srvufrag:cli", "server-password-0123456789", true), addr(1, 1000), t0, out);
  EXPECT_EQ(agent.selected(), addr(1, 1000));
  EXPECT_EQ(agent.state(t0), IceLiteAgent::State::kConnected);
  agent.handle(check("srvufrag:cli", "server-password-0123456789", true, 2), addr(2, 2000), t0, out);
  EXPECT_EQ(agent.selected(), addr(2, 2000));
}

TEST_F(IceLite, ConsentExpiresWithoutChecksAndRefreshesWithThem) {
  agent.handle(check("srvufrag:cli", "server-password-0123456789", true), addr(1, 1000), t0, out);
  EXPECT_EQ(agent.state(t0 + 29s), IceLiteAgent::State::kConnected);
  agent.handle(check("srvufrag:cli", "server-password-0123456789", false, 3), addr(1, 1000), t0 + 25s, out);
  EXPECT_EQ(agent.state(t0 + 50s), IceLiteAgent::State::kConnected);
  EXPECT_EQ(agent.state(t0 + 56s), IceLiteAgent::State::kDisconnected);
}

TEST_F(IceLite, WrongPasswordOrUserIs401AndNotValidated) {
  size_t n = agent.handle(check("srvufrag:cli", "wrong", true), addr(1, 1000), t0, out);
  auto res = StunMessageView::parse({out.data(), n});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->message_class(), StunClass::kError);
  EXPECT_EQ(res->error_code(), 401);
  EXPECT_FALSE(agent.selected());
  EXPECT_FALSE(agent.is_validated(addr(1, 1000)));
  EXPECT_EQ(agent.counters().bad_integrity, 1u);
  n = agent.handle(check("other:cli", "server-password-0123456789", true), addr(1, 1000), t0, out);
  EXPECT_EQ(StunMessageView::parse({out.data(), n})->error_code(), 401);
  EXPECT_EQ(agent.counters().unknown_user, 1u);
}

TEST_F(IceLite, MissingCredentialsIs400AndBadFingerprintIsDropped) {
  std::array<uint8_t, 12> tid{};
  std::vector<uint8_t> buf(128);
  StunMessageBuilder b(buf, kStunBindingMethod, StunClass::kRequest, tid);
  b.add_fingerprint();
  size_t n = agent.handle({buf.data(), b.size()}, addr(1, 1), t0, out);
  EXPECT_EQ(StunMessageView::parse({out.data(), n})->error_code(), 400);
  auto req = check("srvufrag:cli", "server-password-0123456789", true);
  req.back() ^= 0xFF;  // corrupt the CRC
  EXPECT_EQ(agent.handle(req, addr(1, 1), t0, out), 0u);
  std::vector<uint8_t> junk = {1, 2, 3};
  EXPECT_EQ(agent.handle(junk, addr(1, 1), t0, out), 0u);
  EXPECT_EQ(agent.counters().malformed, 3u);
}

TEST_F(IceLite, RestartForgetsPairsAndNeedsNewCredentials) {
  agent.handle(check("srvufrag:cli", "server-password-0123456789", true), addr(1, 1000), t0, out);
  agent.restart({"newufrag", "new-password-000000000000"});
  EXPECT_FALSE(agent.selected());
  size_t n = agent.handle(check("srvufrag:cli", "server-password-0123456789", true), addr(1, 1000), t0, out);
  EXPECT_EQ(StunMessageView::parse({out.data(), n})->error_code(), 401);
  agent.handle(check("newufrag:cli", "new-password-000000000000", true), addr(1, 1000), t0, out);
  EXPECT_EQ(agent.selected(), addr(1, 1000));
}

TEST(IceHelpers, CredentialsUfragRoutingAndCandidates) {
  auto c = generate_ice_credentials();
  EXPECT_EQ(c.ufrag.size(), 8u);
  EXPECT_GE(c.pwd.size(), 22u);
  EXPECT_NE(generate_ice_credentials().ufrag, c.ufrag);
  EXPECT_EQ(stun_local_ufrag(check("abc:def", "x", false)), "abc");
  std::vector<uint8_t> junk = {0, 1, 2};
  EXPECT_EQ(stun_local_ufrag(junk), "");
  EXPECT_EQ(host_candidate(1, "udp", "127.0.0.1", 7882), "candidate:1 1 udp 2130706431 127.0.0.1 7882 typ host");
  EXPECT_EQ(host_candidate(2, "tcp", "127.0.0.1", 7881, true),
            "candidate:2 1 tcp 2122317823 127.0.0.1 7881 typ host tcptype passive");
}

}  // namespace
}  // namespace parlor::rtc
