#include "rtc/sctp/sctp_association.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "rtc/dtls/dtls_transport.hpp"

namespace parlor::rtc {
namespace {

// Largest SCTP packet that still fits one DTLS record (AES-GCM) in one kMtu datagram.
constexpr size_t kMaxSctpPacket = DtlsTransport::kMtu - (13 + 8 + 16);

struct Message {
  uint16_t stream;
  std::vector<uint8_t> data;
  bool binary;
};

struct Opened {
  uint16_t stream;
  std::string label, protocol;
};

// One end: records every event and queues outgoing packets for the test to deliver.
class Peer : public SctpAssociation::Listener {
 public:
  void on_sctp_send(std::span<const uint8_t> packet) override {
    max_packet = std::max(max_packet, packet.size());
    outbox.emplace_back(packet.begin(), packet.end());
  }
  void on_sctp_connected() override { connected = true; }
  void on_sctp_closed() override { closed = true; }
  void on_channel_open(uint16_t stream, const std::string& label,
                       const std::string& protocol) override {
    opened.push_back({stream, label, protocol});
  }
  void on_channel_message(uint16_t stream, std::span<const uint8_t> data, bool binary) override {
    messages.push_back({stream, {data.begin(), data.end()}, binary});
    if (on_message) on_message();
  }
  void on_channel_closed(uint16_t stream) override { closed_channels.push_back(stream); }

  bool has_opened(uint16_t stream) const {
    return std::any_of(opened.begin(), opened.end(),
                       [&](const Opened& o) { return o.stream == stream; });
  }
  bool has_closed(uint16_t stream) const {
    return std::find(closed_channels.begin(), closed_channels.end(), stream) !=
           closed_channels.end();
  }

  std::unique_ptr<SctpAssociation> sctp;
  std::deque<std::vector<uint8_t>> outbox;
  size_t max_packet = 0;
  bool connected = false, closed = false;
  std::vector<Opened> opened;
  std::vector<Message> messages;
  std::vector<uint16_t> closed_channels;
  std::function<void()> on_message;
};

// Two associations back to back, as if joined by DTLS: the DTLS client uses even stream ids.
class SctpPair : public ::testing::Test {
 protected:
  void make(SctpAssociation::Options client_options = {},
            SctpAssociation::Options server_options = {}) {
    client_options.dtls_client = true;
    server_options.dtls_client = false;
    client.sctp = std::make_unique<SctpAssociation>(client_options, client);
    server.sctp = std::make_unique<SctpAssociation>(server_options, server);
  }

  void connect() {
    if (!client.sctp) make();
    client.sctp->start();
    server.sctp->start();
    ASSERT_TRUE(pump_until([&] { return client.connected && server.connected; }));
    EXPECT_TRUE(client.sctp->connected());
    EXPECT_TRUE(server.sctp->connected());
  }

  // Delivers queued packets both ways until `done` holds; when nothing is in flight, advances
  // usrsctp's clock by 10 ms (retransmissions, delayed SACKs). False after `limit_ms`.
  bool pump_until(const std::function<bool()>& done, uint32_t limit_ms = 10000,
                  uint32_t* waited_ms = nullptr) {
    uint32_t elapsed = 0;
    for (int rounds = 0; rounds < 1000000; ++rounds) {
      if (waited_ms) *waited_ms = elapsed;
      if (done()) return true;
      bool moved = deliver(client, server);
      moved = deliver(server, client) || moved;
      if (!moved) {
        if (elapsed >= limit_ms) return false;
        SctpAssociation::handle_timers(10);
        elapsed += 10;
      }
    }
    return false;
  }

  // Lets everything in flight settle (SACKs, resets) without a condition.
  void settle() {
    pump_until([] { return false; }, 500);
  }

  static bool deliver(Peer& from, Peer& to) {
    auto packets = std::move(from.outbox);
    from.outbox.clear();
    for (const auto& p : packets) {
      if (to.sctp) to.sctp->receive(p);
    }
    return !packets.empty();
  }

  // Opens a channel from `from` and waits for both ends to see it open.
  uint16_t open(Peer& from, Peer& to, const std::string& label,
                const SctpAssociation::ChannelOptions& options = {}) {
    auto stream = from.sctp->open_channel(label, options);
    EXPECT_TRUE(stream);
    if (!stream) return 0xFFFF;
    EXPECT_TRUE(pump_until([&] { return from.has_opened(*stream) && to.has_opened(*stream); }));
    return *stream;
  }

  static std::vector<uint8_t> pattern(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + 3);
    return v;
  }
  static std::span<const uint8_t> text(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  }

  Peer client, server;
};

TEST_F(SctpPair, ConnectsWithSimultaneousInit) {
  connect();
  EXPECT_FALSE(client.closed);
  EXPECT_FALSE(server.closed);
  EXPECT_LE(client.max_packet, kMaxSctpPacket);
  EXPECT_LE(server.max_packet, kMaxSctpPacket);
}

TEST_F(SctpPair, ChannelsFromBothSidesUseTheirParity) {
  connect();
  SctpAssociation::ChannelOptions with_protocol;
  with_protocol.protocol = "lk";
  uint16_t a = open(client, server, "_reliable");
  uint16_t b = open(server, client, "from-server", with_protocol);
  EXPECT_EQ(a % 2, 0);
  EXPECT_EQ(b % 2, 1);
  ASSERT_EQ(server.opened.size(), 2u);  // the client's channel, then the ACK of its own
  EXPECT_EQ(server.opened[0].label, "_reliable");
  EXPECT_EQ(server.opened[0].protocol, "");
  EXPECT_EQ(server.opened[1].label, "from-server");
  EXPECT_EQ(server.opened[1].protocol, "lk");
  ASSERT_EQ(client.opened.size(), 2u);
  EXPECT_EQ(client.opened[1].label, "from-server");
  EXPECT_EQ(client.opened[1].protocol, "lk");
  uint16_t c = open(client, server, "second");
  EXPECT_EQ(c % 2, 0);
  EXPECT_NE(c, a);
}

TEST_F(SctpPair, MessagesBothWaysStringAndBinary) {
  connect();
  uint16_t a = open(client, server, "_reliable");
  uint16_t b = open(server, client, "back");

  const std::string hello = "hello";
  const std::vector<uint8_t> one = {0x42};
  const auto big = pattern(64 * 1024);
  ASSERT_TRUE(client.sctp->send(a, text(hello), false));
  ASSERT_TRUE(client.sctp->send(a, one, true));
  ASSERT_TRUE(client.sctp->send(a, big, true));
  ASSERT_TRUE(client.sctp->send(a, {}, false));  // empty string: PPID 56
  ASSERT_TRUE(client.sctp->send(a, {}, true));   // empty binary: PPID 57
  ASSERT_TRUE(server.sctp->send(b, one, false));
  ASSERT_TRUE(server.sctp->send(b, big, true));
  ASSERT_TRUE(server.sctp->send(a, text(hello), false));  // a channel is bidirectional

  ASSERT_TRUE(
      pump_until([&] { return server.messages.size() == 5 && client.messages.size() == 3; }));
  // Reliable ordered: in send order.
  EXPECT_EQ(server.messages[0].stream, a);
  EXPECT_EQ(std::string(server.messages[0].data.begin(), server.messages[0].data.end()), hello);
  EXPECT_FALSE(server.messages[0].binary);
  EXPECT_EQ(server.messages[1].data, one);
  EXPECT_TRUE(server.messages[1].binary);
  EXPECT_EQ(server.messages[2].data, big);
  EXPECT_TRUE(server.messages[2].binary);
  EXPECT_TRUE(server.messages[3].data.empty());
  EXPECT_FALSE(server.messages[3].binary);
  EXPECT_TRUE(server.messages[4].data.empty());
  EXPECT_TRUE(server.messages[4].binary);

  // The client sees its two streams' messages; b's are in order.
  std::vector<Message> on_b;
  for (const auto& m : client.messages) {
    if (m.stream == b) on_b.push_back(m);
  }
  ASSERT_EQ(on_b.size(), 2u);
  EXPECT_EQ(on_b[0].data, one);
  EXPECT_FALSE(on_b[0].binary);
  EXPECT_EQ(on_b[1].data, big);

  EXPECT_EQ(client.sctp->counters().messages_out, 5u);
  EXPECT_EQ(server.sctp->counters().messages_in, 5u);
  EXPECT_EQ(server.sctp->counters().messages_out, 3u);
  EXPECT_EQ(client.sctp->counters().messages_in, 3u);
  // 64 KiB went in full-size packets, none larger than one DTLS record can carry.
  EXPECT_GT(client.max_packet, kMaxSctpPacket - 64);
  EXPECT_LE(client.max_packet, kMaxSctpPacket);
  EXPECT_LE(server.max_packet, kMaxSctpPacket);
}

TEST_F(SctpPair, UnorderedUnreliableChannel) {
  connect();
  SctpAssociation::ChannelOptions lossy;
  lossy.ordered = false;
  lossy.max_retransmits = 0;
  uint16_t s = open(client, server, "_lossy", lossy);
  constexpr int kCount = 50;
  std::set<std::vector<uint8_t>> sent;
  for (int i = 0; i < kCount; ++i) {
    std::vector<uint8_t> m = {static_cast<uint8_t>(i), 0xAB, 0xCD};
    ASSERT_TRUE(client.sctp->send(s, m, true));
    sent.insert(m);
  }
  // Nothing is lost between the two, so everything arrives, in whatever order.
  ASSERT_TRUE(pump_until([&] { return server.messages.size() == kCount; }));
  std::set<std::vector<uint8_t>> got;
  for (const auto& m : server.messages) got.insert(m.data);
  EXPECT_EQ(got, sent);
  // The server side of a peer-opened channel has the same reliability; it can answer.
  ASSERT_TRUE(server.sctp->send(s, std::vector<uint8_t>{1}, true));
  ASSERT_TRUE(pump_until([&] { return client.messages.size() == 1; }));
}

TEST_F(SctpPair, PartialReliabilityByLifetime) {
  connect();
  SctpAssociation::ChannelOptions timed;
  timed.max_packet_lifetime_ms = 500;
  uint16_t s = open(server, client, "timed", timed);
  ASSERT_TRUE(server.sctp->send(s, pattern(3000), true));
  ASSERT_TRUE(pump_until([&] { return client.messages.size() == 1; }));
  EXPECT_EQ(client.messages[0].data, pattern(3000));
}

TEST_F(SctpPair, OversizeMessagesAreRefusedAndDropped) {
  SctpAssociation::Options client_options, server_options;
  server_options.max_message_size = 100000;  // the server accepts less than the client sends
  make(client_options, server_options);
  connect();
  uint16_t s = open(client, server, "_reliable");

  // Sending more than our own limit is refused up front.
  EXPECT_FALSE(client.sctp->send(s, pattern(client_options.max_message_size + 1), true));
  EXPECT_EQ(client.sctp->counters().oversize_dropped, 1u);
  EXPECT_FALSE(server.sctp->send(s, pattern(server_options.max_message_size + 1), true));
  EXPECT_EQ(server.sctp->counters().oversize_dropped, 1u);

  // Exactly the limit goes through, and the whole default limit arrives reassembled from
  // 64 KiB partial deliveries.
  ASSERT_TRUE(server.sctp->send(s, pattern(server_options.max_message_size), true));
  ASSERT_TRUE(pump_until([&] { return client.messages.size() == 1; }));
  EXPECT_EQ(client.messages[0].data, pattern(server_options.max_message_size));

  // What exceeds the receiver's limit is dropped there, and the next message still lands.
  ASSERT_TRUE(client.sctp->send(s, pattern(client_options.max_message_size), true));
  ASSERT_TRUE(client.sctp->send(s, text("after"), false));
  ASSERT_TRUE(pump_until([&] { return server.messages.size() == 1; }));
  EXPECT_EQ(std::string(server.messages[0].data.begin(), server.messages[0].data.end()), "after");
  EXPECT_EQ(server.sctp->counters().oversize_dropped, 2u);
  EXPECT_EQ(server.sctp->counters().messages_in, 1u);
}

TEST_F(SctpPair, LargestDefaultMessageIsReassembled) {
  connect();
  uint16_t s = open(client, server, "_reliable");
  const size_t kMax = SctpAssociation::Options{}.max_message_size;  // Options holds a std::function: not a literal type
  ASSERT_TRUE(client.sctp->send(s, pattern(kMax), true));
  ASSERT_TRUE(pump_until([&] { return server.messages.size() == 1; }));
  EXPECT_EQ(server.messages[0].data, pattern(kMax));
  EXPECT_EQ(server.sctp->counters().oversize_dropped, 0u);
}

TEST_F(SctpPair, CloseIsSeenByThePeerAndFreesTheStream) {
  connect();
  uint16_t a = open(client, server, "_reliable");
  uint16_t b = open(client, server, "other");
  ASSERT_TRUE(client.sctp->send(a, text("last words"), false));
  client.sctp->close_channel(a);
  EXPECT_FALSE(client.sctp->send(a, text("too late"), false));
  // The message sent before the close still arrives, then the peer sees the close, answers with
  // its own reset, and the closer sees it too.
  ASSERT_TRUE(pump_until([&] { return server.has_closed(a) && client.has_closed(a); }));
  ASSERT_EQ(server.messages.size(), 1u);
  EXPECT_FALSE(server.sctp->send(a, text("gone"), false));
  EXPECT_FALSE(server.has_closed(b));
  ASSERT_TRUE(client.sctp->send(b, text("still here"), false));
  ASSERT_TRUE(pump_until([&] { return server.messages.size() == 2; }));

  // Once both directions are reset, the stream id is free again.
  settle();
  uint16_t again = open(client, server, "reopened");
  EXPECT_EQ(again, a);
  ASSERT_TRUE(client.sctp->send(again, text("new"), false));
  ASSERT_TRUE(pump_until([&] { return server.messages.size() == 3; }));
  EXPECT_EQ(server.messages[2].stream, a);
}

TEST_F(SctpPair, ServerClosesAChannelTheClientOpened) {
  connect();
  uint16_t a = open(client, server, "_reliable");
  server.sctp->close_channel(a);
  ASSERT_TRUE(pump_until([&] { return server.has_closed(a) && client.has_closed(a); }));
  EXPECT_FALSE(client.sctp->send(a, text("x"), false));
}

TEST_F(SctpPair, ChannelsOpenedBeforeConnectAreOpenedOnConnect) {
  make();
  auto early = client.sctp->open_channel("early", {});
  ASSERT_TRUE(early);
  EXPECT_FALSE(client.sctp->send(*early, text("x"), false));  // not connected yet
  connect();
  ASSERT_TRUE(pump_until([&] { return client.has_opened(*early) && server.has_opened(*early); }));
  EXPECT_EQ(server.opened[0].label, "early");
}

TEST_F(SctpPair, PeerOpensBeyondMaxChannelsAreRefused) {
  SctpAssociation::Options server_options;
  server_options.max_channels = 1;
  make({}, server_options);
  connect();
  uint16_t a = open(client, server, "one");
  auto b = client.sctp->open_channel("two", {});
  ASSERT_TRUE(b);
  ASSERT_TRUE(pump_until([&] { return client.has_closed(*b); }));
  EXPECT_FALSE(client.has_opened(*b));
  EXPECT_FALSE(server.has_opened(*b));
  EXPECT_FALSE(server.has_closed(*b));                   // never announced there
  EXPECT_FALSE(server.sctp->open_channel("local", {}));  // our own limit holds as well
  ASSERT_TRUE(client.sctp->send(a, text("fine"), false));
  ASSERT_TRUE(pump_until([&] { return server.messages.size() == 1; }));
}

TEST_F(SctpPair, UnknownStreamsAndStatesAreRefused) {
  make();
  EXPECT_FALSE(client.sctp->send(0, text("x"), false));  // not connected
  connect();
  EXPECT_FALSE(client.sctp->send(42, text("x"), false));  // no such channel
  client.sctp->close_channel(42);                         // no-op
  EXPECT_FALSE(client.sctp->open_channel(std::string(70000, 'l'), {}));
}

TEST_F(SctpPair, GarbageDoesNotHurt) {
  make();
  std::mt19937 rng(1234);
  auto garbage = [&](size_t n) {
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
  };
  // Before start (kept as early packets, then fed to usrsctp), including tiny ones.
  for (size_t n : {0, 1, 11, 12, 13, 100}) server.sctp->receive(garbage(n));
  connect();
  uint16_t s = open(client, server, "_reliable");
  for (int i = 0; i < 500; ++i) {
    auto g = garbage(rng() % 1500);
    if (g.size() >= 4 && i % 2) {
      g[0] = 0x13, g[1] = 0x88, g[2] = 0x13, g[3] = 0x88;  // ports 5000 → 5000
    }
    server.sctp->receive(g);
    client.sctp->receive(g);
  }
  client.outbox.clear();  // nothing valid can come of it; start clean
  server.outbox.clear();
  ASSERT_TRUE(client.sctp->send(s, text("still alive"), false));
  ASSERT_TRUE(pump_until([&] { return server.messages.size() == 1; }));
  EXPECT_FALSE(client.closed);
  EXPECT_FALSE(server.closed);
}

TEST_F(SctpPair, PeerThatVanishesTimesOutAndClosesEverything) {
  connect();
  uint16_t a = open(client, server, "_reliable");
  uint16_t b = open(server, client, "back");
  client.sctp.reset();  // sends nothing: as if DTLS died under it
  ASSERT_TRUE(server.sctp->send(a, text("anyone?"), false));
  // Retransmissions back off to usrsctp's maximum RTO until the association is declared lost.
  uint32_t waited_ms = 0;
  ASSERT_TRUE(pump_until([&] { return server.closed; }, 15 * 60 * 1000, &waited_ms));
  EXPECT_GT(waited_ms, 10 * 1000u);  // not at once: only after the retransmissions ran out
  RecordProperty("lost_after_ms", static_cast<int>(waited_ms));
  EXPECT_TRUE(server.has_closed(a));
  EXPECT_TRUE(server.has_closed(b));
  EXPECT_FALSE(server.sctp->connected());
  EXPECT_FALSE(server.sctp->send(a, text("x"), false));
  EXPECT_FALSE(server.sctp->open_channel("late", {}));
}

TEST_F(SctpPair, ListenerMayDestroyTheAssociationInACallback) {
  connect();
  uint16_t s = open(client, server, "_reliable");
  server.on_message = [&] { server.sctp.reset(); };
  ASSERT_TRUE(client.sctp->send(s, text("one"), false));
  ASSERT_TRUE(client.sctp->send(s, text("two"), false));
  ASSERT_TRUE(pump_until([&] { return server.messages.size() >= 1; }));
  EXPECT_FALSE(server.sctp);
  settle();  // the client keeps running; timers may fire for the gone association
  EXPECT_EQ(server.messages.size(), 1u);
}

}  // namespace
}  // namespace parlor::rtc
