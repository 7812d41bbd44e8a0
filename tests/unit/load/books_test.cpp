// parlor load's run-level books (src/load/books.hpp) and /proc parsing (src/load/proc_stats.hpp).
#include "load/books.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "load/proc_stats.hpp"

namespace parlor::load {
namespace {

PeerResult publisher(const std::string& room, uint32_t index, uint32_t audio_sent,
                     uint32_t top_sent) {
  PeerResult p;
  p.publisher = true;
  p.room = room;
  p.identity = "pub";
  p.join_ms = 10;
  p.sent.push_back({index * 2, false, {audio_sent, 0, 0}, {}});
  p.sent.push_back({index * 2 + 1, true, {top_sent, top_sent, top_sent}, {}});
  return p;
}

// A subscriber stream that saw `n` packets of `track`/`layer` with indices [first, first + n).
StreamResult stream(uint32_t ssrc, uint32_t track, uint8_t layer, uint32_t first, uint32_t n,
                    std::initializer_list<uint32_t> missing = {}) {
  StreamAccount a;
  for (uint32_t i = 0; i < n; ++i) {
    bool skip = false;
    for (auto m : missing) skip |= m == i;
    if (skip) continue;
    PacketTag t{track, layer, first + i};
    a.on_packet(static_cast<uint16_t>(i), i * 960, i * 20000, 100, &t, false);
  }
  StreamResult s;
  s.ssrc = ssrc;
  s.track = a.track();
  s.last_tag = a.last_tag();
  s.counters = a.counters();
  s.balanced = a.balanced();
  return s;
}

PeerResult subscriber(const std::string& room, std::vector<StreamResult> streams) {
  PeerResult p;
  p.room = room;
  p.identity = "sub";
  p.join_ms = 12;
  p.streams = std::move(streams);
  return p;
}

TEST(Books, BalanceWhenEveryTrackArrivesAndGapsAreCounted) {
  std::vector<PeerResult> peers{
      publisher("r", 0, 500, 300),
      subscriber("r", {stream(1, 0, 0, 100, 400), stream(2, 1, 2, 50, 250, {7, 8})})};
  auto b = check_books(peers);
  EXPECT_TRUE(b.balanced()) << (b.problems.empty() ? "" : b.problems[0]);
  EXPECT_EQ(b.streams, 2u);
  EXPECT_EQ(b.expected_streams, 2u);
  EXPECT_EQ(b.received, 400u + 248u);
  EXPECT_EQ(b.lost, 2u);
  EXPECT_EQ(b.tail_unreceived, 0u);  // both ended on the publisher's last index
  EXPECT_NEAR(b.loss_percent(), 100.0 * 2 / 650, 1e-9);
}

TEST(Books, AMissingTrackIsAProblem) {
  std::vector<PeerResult> peers{publisher("r", 0, 500, 300),
                                subscriber("r", {stream(1, 0, 0, 100, 400)})};
  auto b = check_books(peers);
  EXPECT_FALSE(b.balanced());
}

TEST(Books, AnIndexBeyondWhatWasSentIsAProblem) {
  std::vector<PeerResult> peers{
      publisher("r", 0, 500, 300),
      subscriber("r", {stream(1, 0, 0, 100, 400), stream(2, 1, 2, 100, 250)})};
  auto b = check_books(peers);
  EXPECT_FALSE(b.balanced());  // layer 2 sent 300, last index 349
}

TEST(Books, ATrackFromAnotherRoomIsAProblem) {
  std::vector<PeerResult> peers{
      publisher("r", 0, 500, 300), publisher("other", 1, 500, 300),
      subscriber("r",
                 {stream(1, 0, 0, 100, 400), stream(2, 1, 2, 50, 250), stream(3, 2, 0, 0, 10)})};
  auto b = check_books(peers);
  EXPECT_FALSE(b.balanced());
}

TEST(Books, TailNotReceivedIsReportedAndAFailedPeerIsAProblem) {
  auto sub = subscriber("r", {stream(1, 0, 0, 100, 390), stream(2, 1, 2, 50, 250)});
  std::vector<PeerResult> peers{publisher("r", 0, 500, 300), sub};
  EXPECT_EQ(check_books(peers).tail_unreceived, 10u);
  peers[1].error = "DTLS: handshake failed";
  EXPECT_FALSE(check_books(peers).balanced());
}

TEST(ProcStats, ParsesUserAndSystemTicksAfterAnOddCommandName) {
  auto s = parse_proc_stat("4242 (par lor) x) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0", 100);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->user_seconds, 2.5);
  EXPECT_DOUBLE_EQ(s->system_seconds, 1.5);
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 4.0);
  EXPECT_FALSE(parse_proc_stat("garbage", 100));
  EXPECT_FALSE(parse_proc_stat("1 (x) S 1 2", 100));
}

TEST(ProcStats, ReadsThisProcess) {
  auto s = read_proc(getpid());
  ASSERT_TRUE(s);
  EXPECT_GT(s->rss_kb, 0u);
  EXPECT_GE(s->peak_rss_kb, s->rss_kb);
  EXPECT_FALSE(read_proc(0x7FFFFFF0));
}

}  // namespace
}  // namespace parlor::load
