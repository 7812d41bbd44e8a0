#include "rtc/net/udp_socket.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <string>
#include <vector>

#include "common/errors.hpp"

namespace parlor::rtc {
namespace {

TEST(UdpSocket, EchoesBatchesOnLoopback) {
  boost::asio::io_context io;
  std::vector<std::string> got;
  std::unique_ptr<UdpSocket> server;
  server = std::make_unique<UdpSocket>(io, "127.0.0.1", 0, [&](std::span<uint8_t> d, const UdpEndpoint& from) {
    server->send(d, from);  // echo
  });
  UdpSocket client(io, "127.0.0.1", 0, [&](std::span<uint8_t> d, const UdpEndpoint&) {
    got.emplace_back(d.begin(), d.end());
    if (got.size() == 100) io.stop();
  });
  auto to = UdpEndpoint::from("127.0.0.1", server->port());
  for (int i = 0; i < 100; ++i) {
    std::string s = "packet-" + std::to_string(i);
    client.send({reinterpret_cast<const uint8_t*>(s.data()), s.size()}, to);
  }
  client.flush();
  boost::asio::steady_timer guard(io, std::chrono::seconds(5));
  guard.async_wait([&](auto) { io.stop(); });
  io.run();
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(got.front(), "packet-0");
  EXPECT_EQ(server->received(), 100u);
  EXPECT_EQ(server->sent(), 100u);
  EXPECT_EQ(client.send_errors(), 0u);
}

TEST(UdpSocket, OversizedDatagramsAreCountedNotDelivered) {
  boost::asio::io_context io;
  int delivered = 0;
  UdpSocket server(io, "127.0.0.1", 0, [&](std::span<uint8_t>, const UdpEndpoint&) { ++delivered; });
  UdpSocket client(io, "127.0.0.1", 0, [](std::span<uint8_t>, const UdpEndpoint&) {});
  std::vector<uint8_t> big(UdpSocket::kMaxDatagram + 1, 1);
  EXPECT_FALSE(client.send(big, UdpEndpoint::from("127.0.0.1", server.port())));
  EXPECT_EQ(client.send_errors(), 1u);
  // A raw oversized datagram from another socket is truncated by the kernel and dropped.
  boost::asio::ip::udp::socket raw(io, boost::asio::ip::udp::endpoint(boost::asio::ip::udp::v4(), 0));
  std::vector<uint8_t> huge(4000, 2), small(10, 3);
  boost::asio::ip::udp::endpoint to(boost::asio::ip::make_address("127.0.0.1"), server.port());
  raw.send_to(boost::asio::buffer(huge), to);
  raw.send_to(boost::asio::buffer(small), to);
  boost::asio::steady_timer poll(io);
  std::function<void()> check = [&] {
    if (delivered == 1 && server.truncated() == 1) return io.stop();
    poll.expires_after(std::chrono::milliseconds(5));
    poll.async_wait([&](auto) { check(); });
  };
  check();
  boost::asio::steady_timer guard(io, std::chrono::seconds(5));
  guard.async_wait([&](auto) { io.stop(); });
  io.run();
  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(server.truncated(), 1u);
}

TEST(UdpEndpoint, ParsesAndPrints) {
  EXPECT_EQ(UdpEndpoint::from("127.0.0.1", 7882).to_string(), "127.0.0.1:7882");
  EXPECT_EQ(UdpEndpoint::from("::1", 9).to_string(), "[::1]:9");
  EXPECT_TRUE(UdpEndpoint::from("10.0.0.1", 1) == UdpEndpoint::from("10.0.0.1", 1));
  EXPECT_FALSE(UdpEndpoint::from("10.0.0.1", 1) == UdpEndpoint::from("10.0.0.1", 2));
  EXPECT_THROW(UdpEndpoint::from("nope", 1), BadInput);
}

}  // namespace
}  // namespace parlor::rtc
