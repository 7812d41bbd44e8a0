// libFuzzer target: the ICE-lite agent (RFC 8445 §7.3) fed a sequence of STUN messages from a
// few remote addresses over time. Most steps build a Binding request with the right (or nearly
// right) credentials, integrity and fingerprint, then maybe flip one byte, so the fuzzer reaches
// nomination, consent and restarts rather than stopping at the integrity check; other steps feed
// raw bytes. Every response must itself be well-formed STUN.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "rtc/ice/ice_lite_agent.hpp"
#include "rtc/stun/stun_message.hpp"

namespace {
using namespace parlor::rtc;

const IceCredentials kLocal{"LoCaL8uf", "local-password-24-chars!"};
const IceCredentials kLocal2{"ReStArT1", "restart-password-24-char"};
const IceCredentials kRemote{"ReMoTe", "remote-password-22chars"};

StunAddress address(uint8_t which) {
  StunAddress a;
  a.ipv6 = which & 4;
  a.ip[0] = a.ipv6 ? 0x20 : 192;
  a.ip[3] = which & 3;
  a.port = static_cast<uint16_t>(50000 + (which & 7));
  return a;
}

size_t build_request(FuzzedDataProvider& in, const IceCredentials& local, std::span<uint8_t> buf) {
  std::array<uint8_t, 12> tid{};
  for (auto& b : tid) b = in.ConsumeIntegral<uint8_t>();
  StunMessageBuilder b(buf, kStunBindingMethod, StunClass::kRequest, tid);
  uint8_t flags = in.ConsumeIntegral<uint8_t>();
  std::string user =
      (flags & 1) ? in.ConsumeRandomLengthString(40) : local.ufrag + ":" + kRemote.ufrag;
  if (!(flags & 2)) b.add_string(stun_attr::kUsername, user);
  b.add_u32(stun_attr::kPriority, in.ConsumeIntegral<uint32_t>());
  b.add_u64(stun_attr::kIceControlling, in.ConsumeIntegral<uint64_t>());
  if (flags & 4) b.add_attribute(stun_attr::kUseCandidate, {});
  if (flags & 8) {
    auto extra = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 64));
    b.add_attribute(in.ConsumeIntegral<uint16_t>(), extra);
  }
  if (!(flags & 16)) b.add_integrity((flags & 32) ? kRemote.pwd : local.pwd);
  if (!(flags & 64)) b.add_fingerprint();
  return b.size();
}

void check_response(std::span<const uint8_t> r, const IceCredentials& local) {
  auto m = StunMessageView::parse(r);
  if (!m || m->method() != kStunBindingMethod || !m->check_fingerprint()) abort();
  if (m->message_class() == StunClass::kSuccess) {
    if (!m->check_integrity(local.pwd) || !m->xor_mapped_address()) abort();
  } else if (m->message_class() != StunClass::kError || !m->error_code()) {
    abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  IceLiteAgent::Options options;
  options.consent_timeout = std::chrono::milliseconds(in.ConsumeIntegralInRange<int>(1, 30000));
  options.max_pairs = in.ConsumeIntegralInRange<size_t>(1, 4);
  IceLiteAgent agent(kLocal, options);
  const IceCredentials* local = &kLocal;
  auto now = IceLiteAgent::Clock::time_point{} + std::chrono::hours(1);
  std::array<uint8_t, 1500> buf{};
  std::array<uint8_t, 512> out{};
  for (int step = 0; step < 64 && in.remaining_bytes() > 0; ++step) {
    uint8_t op = in.ConsumeIntegral<uint8_t>();
    now += std::chrono::milliseconds(in.ConsumeIntegralInRange<int>(0, 40000));
    StunAddress from = address(in.ConsumeIntegral<uint8_t>());
    std::vector<uint8_t> packet;
    switch (op % 4) {
      case 0: {  // raw bytes
        packet = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 600));
        break;
      }
      case 1:
      case 2: {  // a built request, maybe with one byte changed
        size_t n = build_request(in, *local, buf);
        packet.assign(buf.begin(), buf.begin() + n);
        if (op & 0x10 && !packet.empty()) {
          packet[in.ConsumeIntegralInRange<size_t>(0, packet.size() - 1)] ^=
              in.ConsumeIntegral<uint8_t>();
        }
        break;
      }
      case 3: {  // restart or learn the remote credentials
        if (op & 0x10) {
          local = local == &kLocal ? &kLocal2 : &kLocal;
          agent.restart(*local);
        }
        agent.set_remote(kRemote);
        continue;
      }
    }
    size_t small = (op & 0x20) ? in.ConsumeIntegralInRange<size_t>(0, out.size()) : out.size();
    size_t n = agent.handle(packet, from, now, std::span(out.data(), small));
    if (n > small) abort();
    if (n) check_response({out.data(), n}, *local);
    (void)agent.state(now);
    if (auto sel = agent.selected(); sel && agent.state(now) == IceLiteAgent::State::kNew) abort();
    (void)agent.is_validated(from);
  }
  if (agent.local().ufrag != local->ufrag) abort();
  return 0;
}
