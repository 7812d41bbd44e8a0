#include "load/floor.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <thread>
#include <vector>

#include "rtc/byte_io.hpp"
#include "rtc/srtp/srtp_session.hpp"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103  // linux/udp.h, Linux ≥ 4.18
#endif

namespace parlor::load {

namespace {
constexpr size_t kPacket = 1200;  // a full video packet, what dominates forwarded bytes
constexpr int kBatch = 32;        // the server's sendmmsg/recvmmsg batch (rtc/net/udp_socket)
constexpr size_t kUnprotectPackets = 4096;

using Clock = std::chrono::steady_clock;

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

std::vector<uint8_t> plain_packet(uint16_t seq) {
  std::vector<uint8_t> p(kPacket, 0x5A);
  p[0] = 0x80;
  p[1] = 96;
  rtc::write_u16(p, 2, seq);
  rtc::write_u32(p, 4, 1234);
  rtc::write_u32(p, 8, 0x11223344);
  return p;
}

struct SrtpCost {
  double protect_us = 0, unprotect_us = 0;
};

SrtpCost measure_srtp(rtc::SrtpProfile profile, std::chrono::milliseconds slice) {
  std::array<uint8_t, 16> key{};
  std::array<uint8_t, 14> salt{};
  RAND_bytes(key.data(), key.size());
  RAND_bytes(salt.data(), salt.size());
  rtc::SrtpKeys keys{
      key, std::span<const uint8_t>(salt.data(), rtc::SrtpSession::master_salt_length(profile))};
  rtc::SrtpSession sender(profile, keys), receiver(profile, keys);
  auto plain = plain_packet(0);
  std::vector<uint8_t> out(kPacket + 64);
  SrtpCost cost;
  // Protect: as many as fit the slice.
  uint16_t seq = 0;
  uint64_t n = 0;
  double t0 = thread_cpu_us();
  auto until = Clock::now() + slice;
  while (Clock::now() < until) {
    for (int i = 0; i < 256; ++i, ++n) {
      rtc::write_u16(plain, 2, ++seq);
      size_t len = 0;
      sender.protect_rtp(plain, out, &len);
    }
  }
  cost.protect_us = (thread_cpu_us() - t0) / static_cast<double>(n);
  // Unprotect: distinct packets (the replay window refuses repeats), prepared beforehand.
  rtc::SrtpSession sender2(profile, keys);
  std::vector<std::vector<uint8_t>> sealed(kUnprotectPackets);
  for (size_t i = 0; i < sealed.size(); ++i) {
    rtc::write_u16(plain, 2, static_cast<uint16_t>(i));
    sealed[i].resize(kPacket + 64);
    size_t len = 0;
    sender2.protect_rtp(plain, sealed[i], &len);
    sealed[i].resize(len);
  }
  t0 = thread_cpu_us();
  for (auto& p : sealed) {
    size_t len = 0;
    receiver.unprotect_rtp(p, &len);
  }
  cost.unprotect_us = (thread_cpu_us() - t0) / static_cast<double>(sealed.size());
  return cost;
}

// A loopback receiver draining with recvmmsg on its own thread, timing itself.
struct Receiver {
  int fd = -1;
  sockaddr_in addr{};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> packets{0};
  double cpu_us = 0;
  std::thread thread;

  Receiver() {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    timeval tv{0, 50000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    thread = std::thread([this] { run(); });
  }
  void run() {
    std::vector<std::array<uint8_t, 2048>> bufs(kBatch);
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov{};
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {bufs[i].data(), bufs[i].size()};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    double t0 = thread_cpu_us();
    uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      int got = recvmmsg(fd, msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
      if (got > 0) n += static_cast<uint64_t>(got);
    }
    cpu_us = thread_cpu_us() - t0;
    packets = n;
  }
  ~Receiver() {
    if (thread.joinable()) {
      stop = true;
      thread.join();
    }
    if (fd >= 0) close(fd);
  }
};

double measure_sendmmsg(int fd, const sockaddr_in& to, std::chrono::milliseconds slice) {
  std::vector<uint8_t> p(kPacket, 'x');
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  for (int i = 0; i < kBatch; ++i) {
    iov[i] = {p.data(), p.size()};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = const_cast<sockaddr_in*>(&to);
    msgs[i].msg_hdr.msg_namelen = sizeof(to);
  }
  uint64_t n = 0;
  double t0 = thread_cpu_us();
  auto until = Clock::now() + slice;
  while (Clock::now() < until) {
    int sent = sendmmsg(fd, msgs.data(), kBatch, 0);
    if (sent > 0) n += static_cast<uint64_t>(sent);
  }
  return n ? (thread_cpu_us() - t0) / static_cast<double>(n) : 0;
}

double measure_gso(int fd, const sockaddr_in& to, std::chrono::milliseconds slice,
                   std::string& error) {
  std::vector<uint8_t> p(kPacket * kBatch, 'x');
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(uint16_t))] = {};
  iovec iov{p.data(), p.size()};
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr_in*>(&to);
  msg.msg_namelen = sizeof(to);
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
  if (sendmsg(fd, &msg, 0) < 0) {
    error = std::string("UDP GSO unavailable: ") + std::strerror(errno);
    return 0;
  }
  uint64_t n = 0;
  double t0 = thread_cpu_us();
  auto until = Clock::now() + slice;
  while (Clock::now() < until) {
    if (sendmsg(fd, &msg, 0) > 0) n += kBatch;
  }
  return n ? (thread_cpu_us() - t0) / static_cast<double>(n) : 0;
}
}  // namespace

double FloorResult::per_forwarded_us(bool gcm, double fanout, bool gso) const {
  // Below 1 (simulcast: three layers in, one out) each forwarded packet carries more than one
  // received packet's cost.
  if (fanout <= 0) fanout = 1;
  double protect = gcm ? protect_gcm_us : protect_cm_us;
  double unprotect = gcm ? unprotect_gcm_us : unprotect_cm_us;
  double send = gso && gso_us > 0 ? gso_us : sendmmsg_us;
  return protect + send + (recvmmsg_us + unprotect) / fanout;
}

FloorResult measure_floor(std::chrono::milliseconds budget) {
  FloorResult r;
  auto slice = budget / 5;
  auto cm = measure_srtp(rtc::SrtpProfile::kAes128CmHmacSha1_80, slice / 2);
  auto gcm = measure_srtp(rtc::SrtpProfile::kAeadAes128Gcm, slice / 2);
  r.protect_cm_us = cm.protect_us;
  r.unprotect_cm_us = cm.unprotect_us;
  r.protect_gcm_us = gcm.protect_us;
  r.unprotect_gcm_us = gcm.unprotect_us;
  {
    Receiver rx;
    int tx = socket(AF_INET, SOCK_DGRAM, 0);
    r.sendmmsg_us = measure_sendmmsg(tx, rx.addr, slice * 2);
    r.gso_us = measure_gso(tx, rx.addr, slice * 2, r.gso_error);
    close(tx);
    rx.stop = true;
    rx.thread.join();
    uint64_t n = rx.packets.load();
    r.recvmmsg_us = n ? rx.cpu_us / static_cast<double>(n) : 0;
  }
  return r;
}

}  // namespace parlor::load
