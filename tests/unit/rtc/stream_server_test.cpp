#include "rtc/net/stream_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <vector>

#include "common/errors.hpp"

namespace parlor::rtc {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string frame(const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(payload.size() >> 8));
  f.push_back(static_cast<char>(payload.size() & 0xff));
  return f + payload;
}

// A server on loopback plus blocking clients; the test pumps the server's io_context.
class StreamServerTest : public ::testing::Test {
 protected:
  void start(StreamServer::Limits limits = {}) {
    server_ = std::make_unique<StreamServer>(
        io_, "127.0.0.1", 0, StreamServer::Framing::kRfc4571, limits,
        StreamServer::Handlers{
            .receive =
                [this](std::span<uint8_t> d, const UdpEndpoint& from) {
                  frames_.emplace_back(d.begin(), d.end());
                  from_.push_back(from);
                },
            .read_done = [this] { ++reads_; },
            .closed = [this](const UdpEndpoint& peer) { closed_.push_back(peer); },
        });
  }

  tcp::socket connect() {
    tcp::socket s(client_io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return s;
  }

  template <typename Pred>
  bool pump_until(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  asio::io_context io_, client_io_;
  std::unique_ptr<StreamServer> server_;
  std::vector<std::string> frames_;
  std::vector<UdpEndpoint> from_;
  std::vector<UdpEndpoint> closed_;
  int reads_ = 0;
};

TEST_F(StreamServerTest, DeliversRfc4571FramesWhateverTheSegmentation) {
  start();
  auto client = connect();
  std::string bytes = frame("first") + frame("second") + frame(std::string(1200, 'x'));
  // Two frames in one write, the third split in the middle of its header and of its body.
  const size_t two = 7 + 8;  // "first" and "second" with their 2-byte headers
  asio::write(client, asio::buffer(bytes.data(), two));
  ASSERT_TRUE(pump_until([&] { return frames_.size() == 2; }));
  asio::write(client, asio::buffer(bytes.data() + two, 1));
  asio::write(client, asio::buffer(bytes.data() + two + 1, 600));
  asio::write(client, asio::buffer(bytes.data() + two + 601, bytes.size() - two - 601));
  ASSERT_TRUE(pump_until([&] { return frames_.size() == 3; }));
  EXPECT_EQ(frames_[0], "first");
  EXPECT_EQ(frames_[1], "second");
  EXPECT_EQ(frames_[2], std::string(1200, 'x'));
  EXPECT_EQ(from_[0].via, Via::kTcp);
  EXPECT_EQ(from_[0], from_[2]);
  auto local = client.local_endpoint();
  EXPECT_EQ(from_[0].to_string(), "127.0.0.1:" + std::to_string(local.port()) + "/tcp");
  EXPECT_EQ(server_->counters().frames_received, 3u);
  EXPECT_GE(reads_, 2);
}

TEST_F(StreamServerTest, SendsFramedPacketsToTheConnection) {
  start();
  auto client = connect();
  asio::write(client, asio::buffer(frame("hello")));
  ASSERT_TRUE(pump_until([&] { return frames_.size() == 1; }));
  std::string a = "answer-one", b(1400, 'b');
  EXPECT_TRUE(server_->send({reinterpret_cast<const uint8_t*>(a.data()), a.size()}, from_[0]));
  EXPECT_TRUE(server_->send({reinterpret_cast<const uint8_t*>(b.data()), b.size()}, from_[0]));
  std::string expected = frame(a) + frame(b);
  ASSERT_TRUE(pump_until([&] { return client.available() >= expected.size(); }));
  std::string got(expected.size(), '\0');
  asio::read(client, asio::buffer(got.data(), got.size()));
  EXPECT_EQ(got, expected);
}

TEST_F(StreamServerTest, UnknownEndpointAndUdpAddressAreNotConnections) {
  start();
  auto client = connect();
  asio::write(client, asio::buffer(frame("hi")));
  ASSERT_TRUE(pump_until([&] { return frames_.size() == 1; }));
  UdpEndpoint same_as_udp = from_[0];
  same_as_udp.via = Via::kUdp;  // the same ip:port seen over UDP is another endpoint
  uint8_t byte = 1;
  EXPECT_FALSE(server_->send({&byte, 1}, same_as_udp));
  EXPECT_FALSE(server_->send({&byte, 1}, UdpEndpoint::from("127.0.0.1", 9)));
  EXPECT_EQ(server_->counters().send_no_connection, 2u);
}

TEST_F(StreamServerTest, SkipsOversizedFramesAndKeepsTheConnection) {
  start();
  auto client = connect();
  std::string big(5000, 'z');
  std::string bytes = frame(big) + frame("after");
  asio::write(client, asio::buffer(bytes));
  ASSERT_TRUE(pump_until([&] { return frames_.size() == 1; }));
  EXPECT_EQ(frames_[0], "after");
  EXPECT_EQ(server_->counters().oversized, 1u);
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(StreamServerTest, RefusesConnectionsBeyondTheLimit) {
  StreamServer::Limits limits;
  limits.max_connections = 1;
  start(limits);
  auto first = connect();
  ASSERT_TRUE(pump_until([&] { return server_->connections() == 1; }));
  auto second = connect();
  ASSERT_TRUE(pump_until([&] { return server_->counters().refused == 1; }));
  char c;
  boost::system::error_code ec;
  second.read_some(asio::buffer(&c, 1), ec);  // closed by the server
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(StreamServerTest, QueuedOutputIsBoundedPerConnection) {
  StreamServer::Limits limits;
  limits.send_buffer_bytes = 4096;
  start(limits);
  auto client = connect();
  asio::write(client, asio::buffer(frame("hi")));
  ASSERT_TRUE(pump_until([&] { return frames_.size() == 1; }));
  std::string packet(1000, 'p');
  std::span<const uint8_t> span{reinterpret_cast<const uint8_t*>(packet.data()), packet.size()};
  // Without running the loop the first write stays in flight; the rest queue up to the bound.
  int accepted = 0;
  for (int i = 0; i < 20; ++i) accepted += server_->send(span, from_[0]) ? 1 : 0;
  EXPECT_EQ(accepted, 1 + 4);  // one in flight, four 1002-byte frames fit in 4096
  EXPECT_EQ(server_->counters().send_dropped, 15u);
  std::string expected_total(5 * 1002, '\0');
  ASSERT_TRUE(pump_until([&] { return client.available() >= expected_total.size(); }));
}

TEST_F(StreamServerTest, ClosesConnectionsNoCheckValidatedAndKeepsValidatedOnes) {
  StreamServer::Limits limits;
  limits.unvalidated_timeout = std::chrono::milliseconds(0);
  limits.idle_timeout = std::chrono::hours(1);
  start(limits);
  auto kept = connect();
  auto dropped = connect();
  asio::write(kept, asio::buffer(frame("check")));
  ASSERT_TRUE(pump_until([&] { return frames_.size() == 1 && server_->connections() == 2; }));
  server_->mark_validated(from_[0]);
  server_->sweep(StreamServer::Clock::now() + std::chrono::seconds(2));
  EXPECT_EQ(server_->connections(), 1u);
  EXPECT_EQ(server_->counters().closed_unvalidated, 1u);
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_NE(closed_[0], from_[0]);
  char c;
  boost::system::error_code ec;
  dropped.read_some(asio::buffer(&c, 1), ec);  // closed by the server
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST_F(StreamServerTest, ClosesSilentConnections) {
  StreamServer::Limits limits;
  limits.idle_timeout = std::chrono::milliseconds(0);
  start(limits);
  auto client = connect();
  asio::write(client, asio::buffer(frame("check")));
  ASSERT_TRUE(pump_until([&] { return frames_.size() == 1; }));
  server_->mark_validated(from_[0]);
  server_->sweep(StreamServer::Clock::now() + std::chrono::seconds(2));
  EXPECT_EQ(server_->connections(), 0u);
  EXPECT_EQ(server_->counters().closed_idle, 1u);
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_EQ(closed_[0], from_[0]);
}

TEST_F(StreamServerTest, PeerClosingIsReported) {
  start();
  {
    auto client = connect();
    asio::write(client, asio::buffer(frame("bye")));
    ASSERT_TRUE(pump_until([&] { return frames_.size() == 1; }));
  }
  ASSERT_TRUE(pump_until([&] { return closed_.size() == 1; }));
  EXPECT_EQ(server_->connections(), 0u);
}

TEST(StreamServer, RefusesABadBindAddress) {
  asio::io_context io;
  EXPECT_THROW(StreamServer(io, "not-an-ip", 0, StreamServer::Framing::kRfc4571, {}, {}), BadInput);
}

}  // namespace
}  // namespace parlor::rtc
