#pragma once
// The machine's floor for forwarding one packet (issue 14), measured in-process in the same run
// as the load so every report carries its own yardstick: what an SFU cannot avoid paying per
// forwarded packet on this machine with this kernel.
//
//  * SRTP protect and unprotect of a 1200-byte packet, AES_CM_128_HMAC_SHA1_80 and
//    AEAD_AES_128_GCM, with our SRTP (rtc/srtp: OpenSSL EVP contexts reused);
//  * sending 1200-byte datagrams to 127.0.0.1 with sendmmsg() in batches of 32, and with UDP
//    GSO (one sendmsg() with UDP_SEGMENT carrying 32 segments);
//  * receiving them with recvmmsg() in batches of 32.
// Costs are CPU time (CLOCK_THREAD_CPUTIME_ID) of the thread doing the work divided by packets,
// the same unit as the server's user+sys CPU per forwarded packet. On loopback the sender's time
// includes the kernel's delivery to the receiving socket.
//
// Runs on the calling thread (plus one receiver thread) for about `budget` in total.
#include <chrono>
#include <string>

namespace parlor::load {

struct FloorResult {
  double protect_cm_us = 0, protect_gcm_us = 0;
  double unprotect_cm_us = 0, unprotect_gcm_us = 0;
  double sendmmsg_us = 0;
  double gso_us = 0;  // 0 when UDP GSO is unavailable
  double recvmmsg_us = 0;
  std::string gso_error;  // why GSO was not measured

  // The floor per forwarded packet when each received packet goes out `fanout` times:
  // protect + send, plus (receive + unprotect) × received / forwarded.
  double per_forwarded_us(bool gcm, double fanout, bool gso = false) const;
};

FloorResult measure_floor(std::chrono::milliseconds budget = std::chrono::milliseconds(1500));

}  // namespace parlor::load
