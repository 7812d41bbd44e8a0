// libFuzzer target: a whole signaling session. A room on a real media worker (127.0.0.1, port 0,
// no traffic) holds a bystander; the fuzzed participant joins with the first frame as its
// publisher offer (empty: none) and sends the remaining frames as WebSocket messages through a
// fake SignalSink. Input: one flags byte, then frames of [u16 little-endian length][bytes].
// Afterwards the room ticks (now and past every deadline), and the bystander must still answer a ping.
// Aborts when an exception escapes the session's own boundary, when a request fails with an
// internal (not bad-input) error, or when the server sends something that is not a
// SignalResponse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "signal/session_harness.hpp"

namespace {
using namespace parlor::signal;
using testing::FakeSignalSink;
using testing::SessionHarness;

constexpr size_t kMaxFrames = 64;

std::vector<std::string> split(const uint8_t* data, size_t size) {
  std::vector<std::string> frames;
  size_t i = 0;
  while (i + 2 <= size && frames.size() < kMaxFrames) {
    size_t len = data[i] | (static_cast<size_t>(data[i + 1]) << 8);
    i += 2;
    len = std::min(len, size - i);
    frames.emplace_back(reinterpret_cast<const char*>(data + i), len);
    i += len;
  }
  return frames;
}

bool internal_error(const FakeSignalSink& sink) {
  for (const auto& r : sink.of(livekit::SignalResponse::kRequestResponse)) {
    if (r.request_response().reason() == livekit::RequestResponse::UNCLASSIFIED_ERROR) return true;
  }
  return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static SessionHarness* harness = new SessionHarness();  // one worker for the whole run
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  auto frames = split(data + 1, size - 1);
  auto bystander = std::make_shared<FakeSignalSink>();
  auto fuzzed = std::make_shared<FakeSignalSink>();
  harness->run([&] {
    auto& h = *harness;
    if (h.join(SessionHarness::params("bystander", true), bystander)) abort();
    auto p = SessionHarness::params("fuzzed", !(flags & 1));
    if (flags & 2) p.claims.video->can_publish = false;
    if (flags & 4) p.claims.video->hidden = true;
    p.auto_subscribe = !(flags & 8);
    if (!frames.empty() && !frames[0].empty()) {
      livekit::SessionDescription offer;
      offer.set_type("offer");
      offer.set_sdp(frames[0]);
      p.publisher_offer = offer;
    }
    if (auto failed = h.join(std::move(p), fuzzed)) {
      if (!failed->bad_input) abort();  // a join fails only for bad input
      if (fuzzed->open() || fuzzed->of(livekit::SignalResponse::kLeave).empty()) abort();
    }
    for (size_t i = 1; i < frames.size(); ++i) {
      if (flags & 16 && i == frames.size() / 2) {
        fuzzed->drop();  // the socket goes away mid-session
      }
      fuzzed->deliver(frames[i]);
    }
    auto now = std::chrono::steady_clock::now();
    h.room().tick(now);
    if (!fuzzed->escaped.empty() || internal_error(*fuzzed) || fuzzed->unparsable_sent) abort();
    // Whatever the fuzzed session did, the bystander is still there and answering.
    if (!h.room().find("bystander")) abort();
    livekit::SignalRequest ping;
    ping.mutable_ping_req()->set_timestamp(1234);
    bystander->deliver(ping.SerializeAsString());
    auto pongs = bystander->of(livekit::SignalResponse::kPongResp);
    if (pongs.empty() || pongs.back().pong_resp().last_ping_timestamp() != 1234) abort();
    if (!bystander->escaped.empty()) abort();
    h.room().tick(now + std::chrono::seconds(60));  // past every deadline: sessions time out
    h.close_room();
  });
  return 0;
}
