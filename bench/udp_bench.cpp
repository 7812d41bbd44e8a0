// Cost of sending 1200-byte UDP datagrams to 127.0.0.1, per packet: one send() per packet,
// sendmmsg() in batches of 32, and UDP GSO (one UDP_SEGMENT write of 32 segments).
// A drain thread empties the receiver with recvmmsg so the socket buffer never fills.
//   build/release/bench_udp
// On loopback the sender's cost includes kernel delivery, so these are upper bounds.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103  // linux/udp.h
#endif

namespace {

constexpr size_t kPacket = 1200;
constexpr int kBatch = 32;

struct Loopback {
  int tx = -1, rx = -1;
  sockaddr_in to{};
  std::atomic<bool> stop{false};
  std::thread drain;

  Loopback() {
    rx = socket(AF_INET, SOCK_DGRAM, 0);
    tx = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 8 << 20;
    setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(to);
    getsockname(rx, reinterpret_cast<sockaddr*>(&to), &len);
    timeval tv{0, 100000};
    setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    drain = std::thread([this] {
      std::vector<std::array<char, 65536>> bufs(kBatch);
      std::array<mmsghdr, kBatch> msgs{};
      std::array<iovec, kBatch> iov{};
      for (int i = 0; i < kBatch; ++i) {
        iov[i] = {bufs[i].data(), bufs[i].size()};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      while (!stop) recvmmsg(rx, msgs.data(), kBatch, 0, nullptr);
    });
  }
  ~Loopback() {
    stop = true;
    drain.join();
    close(tx);
    close(rx);
  }
};

void BM_Send(benchmark::State& state) {
  Loopback l;
  std::vector<char> p(kPacket, 'x');
  for (auto _ : state) {
    sendto(l.tx, p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&l.to), sizeof(l.to));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Sendmmsg(benchmark::State& state) {
  Loopback l;
  std::vector<char> p(kPacket, 'x');
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  for (int i = 0; i < kBatch; ++i) {
    iov[i] = {p.data(), p.size()};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &l.to;
    msgs[i].msg_hdr.msg_namelen = sizeof(l.to);
  }
  for (auto _ : state) sendmmsg(l.tx, msgs.data(), kBatch, 0);
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_Gso(benchmark::State& state) {
  Loopback l;
  std::vector<char> p(kPacket * kBatch, 'x');
  // The segment size rides in a control message per write (RFC-less Linux API, since 4.18).
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(uint16_t))] = {};
  iovec iov{p.data(), p.size()};
  msghdr msg{};
  msg.msg_name = &l.to;
  msg.msg_namelen = sizeof(l.to);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = IPPROTO_UDP;
  cm->cmsg_type = UDP_SEGMENT;
  cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t segment = kPacket;
  std::memcpy(CMSG_DATA(cm), &segment, sizeof(segment));
  if (sendmsg(l.tx, &msg, 0) < 0) {
    state.SkipWithError((std::string("UDP GSO unavailable: ") + std::strerror(errno)).c_str());
    return;
  }
  for (auto _ : state) sendmsg(l.tx, &msg, 0);
  state.SetItemsProcessed(state.iterations() * kBatch);
}

BENCHMARK(BM_Send)->UseRealTime();
BENCHMARK(BM_Sendmmsg)->UseRealTime();
BENCHMARK(BM_Gso)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
