#include "rtc/sctp/sctp_association.hpp"

#include <arpa/inet.h>
#include <usrsctp.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

#include "common/errors.hpp"
#include "rtc/dtls/dtls_transport.hpp"
#include "rtc/sctp/dcep.hpp"

namespace parlor::rtc {
namespace {

// RFC 8831 §6.2 asks for 65535 streams, but usrsctp allocates state per stream up front; 1024
// is what browsers negotiate in practice and far above any room's channel count.
constexpr uint16_t kStreams = 1024;
// usrsctp_recvv reads at most this much at a time; longer messages arrive as partial deliveries
// (no MSG_EOR) that drain() reassembles.
constexpr size_t kRecvChunk = 64 * 1024;
// Socket buffers. usrsctp's 256 KiB default limits throughput at realistic RTTs and must hold
// the largest message whole, since non-blocking sends are atomic (see send_raw).
constexpr int kSocketBuffer = 1024 * 1024;
// Largest DTLS 1.2 record overhead we negotiate: 13-byte header + 8-byte explicit nonce +
// 16-byte tag (AES-GCM). An SCTP packet must fit in one record in one DtlsTransport::kMtu
// datagram, so PMTU discovery is off and the SCTP MTU fixed (RFC 8261 §5: ≤ 1200 is safe).
constexpr size_t kDtlsRecordOverhead = 13 + 8 + 16;
constexpr uint32_t kSctpMtu = static_cast<uint32_t>(DtlsTransport::kMtu - kDtlsRecordOverhead - 12);
// The SCTP common header; anything shorter is not SCTP and never reaches usrsctp.
constexpr size_t kSctpCommonHeaderSize = 12;
// Packets kept while waiting for start(): the peer's INIT and a retransmission or two.
constexpr size_t kMaxEarlyPackets = 16;
// Notifications are small structs; one larger than this is dropped rather than buffered.
constexpr size_t kMaxNotificationSize = 64 * 1024;
// handle_timers() drains every association this often, in case a notification was queued
// without an upcall (usrsctp raises upcalls from timers only on socket errors).
constexpr uint32_t kSweepIntervalMs = 1000;

// DCEP messages are always sent reliable and ordered (RFC 8832 §6).
const SctpAssociation::ChannelOptions kDcepReliability{};

}  // namespace

// The C side: usrsctp knows an association only as an AF_CONN address (the SctpAssociation
// pointer) and a socket upcall argument (the same pointer). A callback may arrive for an
// association that is being destroyed (sctplab/usrsctp#405), so every callback first checks the
// registry of live associations, the way libdatachannel's SctpTransport::InstancesSet does.
// The mutex is never held while calling into usrsctp, so it cannot invert usrsctp's lock order.
struct UsrsctpBinding {
  struct Registry {
    std::mutex mutex;
    std::unordered_set<SctpAssociation*> live;
    std::unordered_set<SctpAssociation*> readable;  // upcalled since their last drain()
    uint32_t since_sweep_ms = 0;
    bool initialised = false;
  };

  static Registry& registry() {
    static Registry r;
    return r;
  }

  static void init_once() {
    static std::once_flag once;
    std::call_once(once, [] {
      usrsctp_init_nothreads(0, &conn_output, nullptr);
      // Partial reliability (RFC 3758) for max_retransmits / max_packet_lifetime_ms channels.
      usrsctp_sysctl_set_sctp_pr_enable(1);
      // No ECN: the IP header's ECN bits never reach SCTP through DTLS.
      usrsctp_sysctl_set_sctp_ecn_enable(0);
      Registry& r = registry();
      std::lock_guard lock(r.mutex);
      r.initialised = true;
    });
  }

  static int conn_output(void* addr, void* buffer, size_t length, uint8_t /*tos*/,
                         uint8_t /*set_df*/) {
    auto* association = static_cast<SctpAssociation*>(addr);
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    if (!r.live.contains(association)) return -1;
    if (association->owned_here()) {
      association->listener_.on_sctp_send({static_cast<const uint8_t*>(buffer), length});
      return 0;
    }
    // Raised by handle_timers() on another worker: the packet goes to the owner's thread.
    const auto* bytes = static_cast<const uint8_t*>(buffer);
    association->options_.run_on_owner(
        [association, alive = std::weak_ptr<void>(association->life_),
         packet = std::vector<uint8_t>(bytes, bytes + length)] {
          if (alive.expired()) return;
          association->listener_.on_sctp_send(packet);
        });
    return 0;
  }

  // Called by usrsctp when the socket may be readable or writable. Only records the fact:
  // reading happens in drain(), outside usrsctp, so listeners may call back into us.
  static void upcall(struct socket* /*socket*/, void* arg, int /*flags*/) {
    auto* association = static_cast<SctpAssociation*>(arg);
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    if (r.live.contains(association)) r.readable.insert(association);
  }

  static sockaddr_conn address(SctpAssociation* association, uint16_t port) {
    sockaddr_conn a{};
    a.sconn_family = AF_CONN;
    a.sconn_port = htons(port);
    a.sconn_addr = association;
    return a;
  }
};

namespace {

template <typename T>
void set_option(struct socket* s, int level, int name, const T& value, const char* what) {
  if (usrsctp_setsockopt(s, level, name, &value, sizeof(value)) != 0) {
    int error = errno;
    usrsctp_close(s);
    throw InternalError(std::string("SCTP: cannot set ") + what + ", errno " +
                        std::to_string(error));
  }
}

void configure(struct socket* s, size_t max_message_size) {
  if (usrsctp_set_non_blocking(s, 1) != 0) {
    usrsctp_close(s);
    throw InternalError("SCTP: cannot make the socket non-blocking");
  }
  // Closing must abort at once: DTLS below may already be gone.
  linger no_linger{.l_onoff = 1, .l_linger = 0};
  set_option(s, SOL_SOCKET, SO_LINGER, no_linger, "SO_LINGER");

  int buffer =
      std::max(kSocketBuffer, static_cast<int>(std::min<size_t>(max_message_size, 1 << 30)));
  set_option(s, SOL_SOCKET, SO_RCVBUF, buffer, "SO_RCVBUF");
  set_option(s, SOL_SOCKET, SO_SNDBUF, buffer, "SO_SNDBUF");

  // Channels close by resetting their streams (RFC 8831 §6.7).
  sctp_assoc_value reset{};
  reset.assoc_id = SCTP_FUTURE_ASSOC;
  reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
  set_option(s, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset, "SCTP_ENABLE_STREAM_RESET");

  int on = 1;
  set_option(s, IPPROTO_SCTP, SCTP_RECVRCVINFO, on, "SCTP_RECVRCVINFO");  // stream id and PPID
  // RFC 8831 §6.6: the sender SHOULD disable Nagle.
  set_option(s, IPPROTO_SCTP, SCTP_NODELAY, on, "SCTP_NODELAY");
  // Messages of different streams are not interleaved in partial deliveries (RFC 6458 §8.1.20),
  // so one reassembly buffer suffices.
  int interleave = 0;
  set_option(s, IPPROTO_SCTP, SCTP_FRAGMENT_INTERLEAVE, interleave, "SCTP_FRAGMENT_INTERLEAVE");
  // Not SCTP_EXPLICIT_EOR: in implicit-EOR mode a non-blocking send takes the whole message or
  // fails with EWOULDBLOCK (usrsctp sctp_lower_sosend), so a message is never half queued and no
  // continuation buffer is needed. Messages are capped at max_message_size ≤ the send buffer.

  sctp_initmsg init{};
  init.sinit_num_ostreams = kStreams;
  init.sinit_max_instreams = kStreams;
  set_option(s, IPPROTO_SCTP, SCTP_INITMSG, init, "SCTP_INITMSG");

  sctp_paddrparams path{};
  path.spp_assoc_id = SCTP_FUTURE_ASSOC;
  path.spp_flags = SPP_HB_ENABLE | SPP_PMTUD_DISABLE;
  path.spp_pathmtu = kSctpMtu;
  set_option(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, path, "SCTP_PEER_ADDR_PARAMS");

  for (uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT}) {
    sctp_event event{};
    event.se_assoc_id = SCTP_FUTURE_ASSOC;
    event.se_type = type;
    event.se_on = 1;
    set_option(s, IPPROTO_SCTP, SCTP_EVENT, event, "SCTP_EVENT");
  }
}

}  // namespace

// ---- lifetime ----

SctpAssociation::SctpAssociation(Options options, Listener& listener)
    : options_(options),
      listener_(listener),
      life_(std::make_shared<char>()),
      recv_buffer_(kRecvChunk),
      stream_limit_(kStreams) {
  UsrsctpBinding::init_once();
  socket_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  if (socket_ == nullptr) {
    throw InternalError("SCTP: usrsctp_socket failed, errno " + std::to_string(errno));
  }
  configure(socket_, options_.max_message_size);  // closes the socket before throwing
  usrsctp_register_address(this);
  {
    auto& r = UsrsctpBinding::registry();
    std::lock_guard lock(r.mutex);
    r.live.insert(this);
  }
  usrsctp_set_upcall(socket_, &UsrsctpBinding::upcall, this);
}

SctpAssociation::~SctpAssociation() {
  {
    auto& r = UsrsctpBinding::registry();
    std::lock_guard lock(r.mutex);
    r.live.erase(this);
    r.readable.erase(this);
  }
  // Any packet (the ABORT) or upcall from here on finds us gone from the registry.
  usrsctp_close(socket_);
  usrsctp_deregister_address(this);
}

void SctpAssociation::start() {
  if (state_ != State::kNew) return;
  state_ = State::kConnecting;
  sockaddr_conn local = UsrsctpBinding::address(this, options_.local_port);
  if (usrsctp_bind(socket_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    fail_all();
    return;
  }
  // Both ends connect; SCTP resolves the INIT collision (RFC 4960 §5.2.4, RFC 8841 §9.3).
  sockaddr_conn remote = UsrsctpBinding::address(this, options_.remote_port);
  if (usrsctp_connect(socket_, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) != 0 &&
      errno != EINPROGRESS) {
    fail_all();
    return;
  }
  auto early = std::move(early_packets_);
  early_packets_.clear();
  for (const auto& packet : early) usrsctp_conninput(this, packet.data(), packet.size(), 0);
  drain();
}

void SctpAssociation::receive(std::span<const uint8_t> packet) {
  if (packet.size() < kSctpCommonHeaderSize || state_ == State::kClosed) return;
  if (state_ == State::kNew) {
    if (early_packets_.size() < kMaxEarlyPackets)
      early_packets_.emplace_back(packet.begin(), packet.end());
    return;
  }
  usrsctp_conninput(this, packet.data(), packet.size(), 0);
  drain();
}

void SctpAssociation::handle_timers(uint32_t elapsed_ms) {
  auto& r = UsrsctpBinding::registry();
  std::vector<SctpAssociation*> ready;
  {
    std::lock_guard lock(r.mutex);
    if (!r.initialised) return;
  }
  usrsctp_handle_timers(elapsed_ms);
  {
    std::lock_guard lock(r.mutex);
    r.since_sweep_ms += elapsed_ms;
    if (r.since_sweep_ms >= kSweepIntervalMs) {
      r.since_sweep_ms = 0;
      ready.assign(r.live.begin(), r.live.end());
    } else {
      ready.assign(r.readable.begin(), r.readable.end());
    }
    r.readable.clear();
  }
  for (SctpAssociation* association : ready) {
    {
      // An earlier drain's listener may have destroyed this one.
      std::lock_guard lock(r.mutex);
      if (!r.live.contains(association)) continue;
      if (!association->owned_here()) {  // read on its owner's thread
        association->options_.run_on_owner(
            [association, alive = std::weak_ptr<void>(association->life_)] {
              if (!alive.expired()) association->drain();
            });
        continue;
      }
    }
    association->drain();
  }
}

// ---- receiving ----

template <typename F>
bool SctpAssociation::call_listener(F&& f) {
  std::weak_ptr<void> token = life_;
  f();
  return !token.expired();  // touch no member after this if the listener deleted us
}

void SctpAssociation::drain() {
  {
    auto& r = UsrsctpBinding::registry();
    std::lock_guard lock(r.mutex);
    r.readable.erase(this);
  }
  if (draining_)
    return;  // a listener fed us a packet from inside a callback; the outer loop reads it
  draining_ = true;
  std::weak_ptr<void> token = life_;
  for (;;) {
    sctp_rcvinfo info{};
    socklen_t info_length = sizeof(info);
    socklen_t from_length = 0;
    unsigned int info_type = SCTP_RECVV_NOINFO;
    int flags = 0;
    ssize_t n = usrsctp_recvv(socket_, recv_buffer_.data(), recv_buffer_.size(), nullptr,
                              &from_length, &info, &info_length, &info_type, &flags);
    if (n <= 0) break;  // EWOULDBLOCK, or the association is gone
    auto bytes = std::span<const uint8_t>(recv_buffer_).first(static_cast<size_t>(n));
    bool end_of_record = (flags & MSG_EOR) != 0;
    bool alive = true;
    if (flags & MSG_NOTIFICATION) {
      if (partial_notification_.empty() && end_of_record) {
        alive = handle_notification(bytes);
      } else if (partial_notification_.size() + bytes.size() > kMaxNotificationSize) {
        partial_notification_.clear();  // not a notification we know; skip the rest of it
      } else {
        partial_notification_.insert(partial_notification_.end(), bytes.begin(), bytes.end());
        if (end_of_record) {
          std::vector<uint8_t> whole;
          whole.swap(partial_notification_);
          alive = handle_notification(whole);
        }
      }
    } else if (info_type == SCTP_RECVV_RCVINFO) {
      alive = handle_fragment(info.rcv_sid, ntohl(info.rcv_ppid), bytes, end_of_record);
    }
    if (!alive) return;
  }
  draining_ = false;
}

bool SctpAssociation::handle_fragment(uint16_t stream, uint32_t ppid,
                                      std::span<const uint8_t> bytes, bool end_of_record) {
  if (discarding_) {  // the tail of an oversize message
    discarding_ = !end_of_record;
    return true;
  }
  if (partial_message_.size() + bytes.size() > options_.max_message_size) {
    ++counters_.oversize_dropped;
    partial_message_.clear();
    discarding_ = !end_of_record;
    return true;
  }
  if (partial_message_.empty() && end_of_record) {
    return handle_message(stream, ppid, bytes);  // the common case: no copy
  }
  partial_message_.insert(partial_message_.end(), bytes.begin(), bytes.end());
  if (!end_of_record) return true;
  std::vector<uint8_t> whole;
  whole.swap(partial_message_);
  return handle_message(stream, ppid, whole);
}

bool SctpAssociation::handle_notification(std::span<const uint8_t> bytes) {
  sctp_notification header{};
  if (bytes.size() < sizeof(header.sn_header)) return true;
  std::memcpy(&header.sn_header, bytes.data(), sizeof(header.sn_header));
  switch (header.sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
      return handle_association_change(bytes);
    case SCTP_STREAM_RESET_EVENT:
      return handle_stream_reset(bytes);
    default:
      return true;
  }
}

bool SctpAssociation::handle_association_change(std::span<const uint8_t> bytes) {
  sctp_assoc_change change{};
  if (bytes.size() < sizeof(change)) return true;
  std::memcpy(&change, bytes.data(), sizeof(change));
  switch (change.sac_state) {
    case SCTP_COMM_UP: {
      if (state_ == State::kConnected || state_ == State::kClosed) return true;
      state_ = State::kConnected;
      stream_limit_ = std::min(change.sac_inbound_streams, change.sac_outbound_streams);
      if (!call_listener([&] { listener_.on_sctp_connected(); })) return false;
      // Channels opened before the association came up.
      std::vector<uint16_t> pending;
      for (auto& [stream, channel] : channels_) {
        if (channel.state == ChannelState::kPendingOpen) pending.push_back(stream);
      }
      for (uint16_t stream : pending) {
        auto it = channels_.find(stream);
        if (it == channels_.end() || it->second.state != ChannelState::kPendingOpen) continue;
        if (send_open(stream, it->second)) continue;
        channels_.erase(it);  // e.g. beyond the negotiated streams
        if (!call_listener([&] { listener_.on_channel_closed(stream); })) return false;
      }
      return true;
    }
    case SCTP_COMM_LOST:
    case SCTP_SHUTDOWN_COMP:
    case SCTP_CANT_STR_ASSOC:
      return fail_all();
    default:  // SCTP_RESTART: the peer restarted; streams and channels carry on
      return true;
  }
}

bool SctpAssociation::handle_stream_reset(std::span<const uint8_t> bytes) {
  sctp_stream_reset_event event{};
  constexpr size_t kListOffset = offsetof(sctp_stream_reset_event, strreset_stream_list);
  if (bytes.size() < kListOffset) return true;
  std::memcpy(&event, bytes.data(), kListOffset);
  size_t length = std::min<size_t>(event.strreset_length, bytes.size());
  if (length < kListOffset) return true;
  std::vector<uint16_t> streams((length - kListOffset) / sizeof(uint16_t));
  std::memcpy(streams.data(), bytes.data() + kListOffset, streams.size() * sizeof(uint16_t));
  if (streams.empty()) {  // an empty list means every stream
    for (const auto& [stream, channel] : channels_) streams.push_back(stream);
  }
  uint16_t flags = event.strreset_flags;
  bool failed = (flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) != 0;

  if (flags & SCTP_STREAM_RESET_OUTGOING_SSN) {
    // Our reset finished (or was refused, which we cannot do more about): forget the channel
    // once the peer has reset its side too.
    for (uint16_t stream : streams) {
      auto it = channels_.find(stream);
      if (it == channels_.end() || !it->second.outgoing_reset) continue;
      it->second.outgoing_done = true;
      forget_if_done(stream);
    }
  }
  if ((flags & SCTP_STREAM_RESET_INCOMING_SSN) && !failed) {
    // The peer closed its side: close ours in answer (RFC 8831 §6.7) and tell the listener.
    for (uint16_t stream : streams) {
      auto it = channels_.find(stream);
      if (it == channels_.end() || it->second.incoming_reset) continue;
      Channel& channel = it->second;
      channel.incoming_reset = true;
      channel.state = ChannelState::kClosing;
      reset_outgoing(stream, channel);
      bool announced = channel.announced;
      forget_if_done(stream);
      if (announced && !call_listener([&] { listener_.on_channel_closed(stream); })) return false;
    }
  }
  return true;
}

bool SctpAssociation::handle_message(uint16_t stream, uint32_t ppid,
                                     std::span<const uint8_t> data) {
  bool binary = false;
  switch (ppid) {
    case kPpidDcep:
      return handle_dcep(stream, data);
    case kPpidString:
      break;
    case kPpidStringEmpty:
      data = {};
      break;
    case kPpidBinary:
      binary = true;
      break;
    case kPpidBinaryEmpty:
      binary = true;
      data = {};
      break;
    default:  // includes the deprecated partial PPIDs 52 and 54 (RFC 8831 §6.6)
      ++counters_.unknown_dropped;
      return true;
  }
  auto it = channels_.find(stream);
  if (it == channels_.end() ||
      (it->second.state != ChannelState::kOpen && it->second.state != ChannelState::kOpening)) {
    ++counters_.unknown_dropped;
    return true;
  }
  if (it->second.state == ChannelState::kOpening) {
    // User data before the ACK means the peer has the channel (RFC 8832 §6).
    if (!acknowledge(stream, it->second)) return false;
  }
  ++counters_.messages_in;
  return call_listener([&] { listener_.on_channel_message(stream, data, binary); });
}

bool SctpAssociation::handle_dcep(uint16_t stream, std::span<const uint8_t> data) {
  auto type = dcep_message_type(data);
  if (type == DcepMessageType::kAck) {
    auto it = channels_.find(stream);
    if (!parse_dcep_ack(data) || it == channels_.end() ||
        it->second.state != ChannelState::kOpening) {
      ++counters_.malformed_dcep;
      return true;
    }
    return acknowledge(stream, it->second);
  }
  auto open = type == DcepMessageType::kOpen ? parse_dcep_open(data) : std::nullopt;
  if (!open || channels_.contains(stream) || stream >= stream_limit_) {
    ++counters_.malformed_dcep;
    return true;
  }
  Channel channel;
  channel.label.assign(open->label);
  channel.options.protocol.assign(open->protocol);
  channel.options.ordered = open->ordered();
  // RFC 8832 §6: the reliability is the same in both directions.
  uint16_t parameter =
      static_cast<uint16_t>(std::min<uint32_t>(open->reliability_parameter, 0xFFFF));
  switch (static_cast<DcepChannelType>(static_cast<uint8_t>(open->channel_type) & 0x7F)) {
    case DcepChannelType::kPartialReliableRexmit:
      channel.options.max_retransmits = parameter;
      break;
    case DcepChannelType::kPartialReliableTimed:
      channel.options.max_packet_lifetime_ms = parameter;
      break;
    default:
      break;
  }
  if (channels_.size() >= options_.max_channels) {
    // No NACK exists in DCEP: refuse by closing the stream (the peer sees the channel close).
    channel.state = ChannelState::kClosing;
    auto [it, inserted] = channels_.emplace(stream, std::move(channel));
    reset_outgoing(stream, it->second);
    return true;
  }
  channel.state = ChannelState::kOpen;
  channel.announced = true;
  auto [it, inserted] = channels_.emplace(stream, std::move(channel));
  send_raw(stream, kPpidDcep, build_dcep_ack(), kDcepReliability, true);
  std::string label = it->second.label, protocol = it->second.options.protocol;
  return call_listener([&] { listener_.on_channel_open(stream, label, protocol); });
}

bool SctpAssociation::acknowledge(uint16_t stream, Channel& channel) {
  channel.state = ChannelState::kOpen;
  std::string label = channel.label, protocol = channel.options.protocol;
  return call_listener([&] { listener_.on_channel_open(stream, label, protocol); });
}

bool SctpAssociation::fail_all() {
  if (state_ == State::kClosed) return true;
  state_ = State::kClosed;
  std::vector<uint16_t> announced;
  for (const auto& [stream, channel] : channels_) {
    if (channel.announced) announced.push_back(stream);
  }
  channels_.clear();
  for (uint16_t stream : announced) {
    if (!call_listener([&] { listener_.on_channel_closed(stream); })) return false;
  }
  return call_listener([&] { listener_.on_sctp_closed(); });
}

// ---- sending ----

std::optional<uint16_t> SctpAssociation::free_stream() const {
  for (uint32_t id = options_.dtls_client ? 0 : 1; id < stream_limit_; id += 2) {
    if (!channels_.contains(static_cast<uint16_t>(id))) return static_cast<uint16_t>(id);
  }
  return std::nullopt;
}

std::optional<uint16_t> SctpAssociation::open_channel(const std::string& label,
                                                      const ChannelOptions& options) {
  if (state_ == State::kClosed || channels_.size() >= options_.max_channels) return std::nullopt;
  if (label.size() > 0xFFFF || options.protocol.size() > 0xFFFF) return std::nullopt;
  auto stream = free_stream();
  if (!stream) return std::nullopt;
  Channel channel;
  channel.label = label;
  channel.options = options;
  channel.announced = true;
  auto [it, inserted] = channels_.emplace(*stream, std::move(channel));
  if (state_ == State::kConnected && !send_open(*stream, it->second)) {
    channels_.erase(it);
    return std::nullopt;
  }
  return stream;
}

bool SctpAssociation::send_open(uint16_t stream, Channel& channel) {
  const ChannelOptions& o = channel.options;
  DcepOpen open;
  uint8_t type = static_cast<uint8_t>(DcepChannelType::kReliable);
  if (o.max_retransmits) {
    type = static_cast<uint8_t>(DcepChannelType::kPartialReliableRexmit);
    open.reliability_parameter = *o.max_retransmits;
  } else if (o.max_packet_lifetime_ms) {
    type = static_cast<uint8_t>(DcepChannelType::kPartialReliableTimed);
    open.reliability_parameter = *o.max_packet_lifetime_ms;
  }
  if (!o.ordered) type |= 0x80;
  open.channel_type = static_cast<DcepChannelType>(type);
  open.label = channel.label;
  open.protocol = o.protocol;
  auto bytes = build_dcep_open(open);
  if (!bytes || !send_raw(stream, kPpidDcep, *bytes, kDcepReliability, true)) return false;
  channel.state = ChannelState::kOpening;
  return true;
}

bool SctpAssociation::send(uint16_t stream, std::span<const uint8_t> data, bool binary) {
  if (state_ != State::kConnected) return false;
  if (data.size() > options_.max_message_size) {
    ++counters_.oversize_dropped;
    return false;
  }
  auto it = channels_.find(stream);
  if (it == channels_.end()) return false;
  const Channel& channel = it->second;
  if (channel.state != ChannelState::kOpen && channel.state != ChannelState::kOpening) return false;
  // RFC 8831 §6.6: an empty message is one 0x00 byte with its own PPID.
  static constexpr uint8_t kEmptyPayload[1] = {0};
  uint32_t ppid = binary ? kPpidBinary : kPpidString;
  if (data.empty()) {
    ppid = binary ? kPpidBinaryEmpty : kPpidStringEmpty;
    data = kEmptyPayload;
  }
  // Until the ACK arrives, messages follow the OPEN in order (RFC 8832 §6).
  bool ordered_only = channel.state == ChannelState::kOpening;
  if (!send_raw(stream, ppid, data, channel.options, ordered_only)) return false;
  ++counters_.messages_out;
  return true;
}

bool SctpAssociation::send_raw(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data,
                               const ChannelOptions& reliability, bool ordered_only) {
  sctp_sendv_spa spa{};
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = stream;
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
  spa.sendv_sndinfo.snd_flags = SCTP_EOR;
  if (!reliability.ordered && !ordered_only) spa.sendv_sndinfo.snd_flags |= SCTP_UNORDERED;
  if (reliability.max_retransmits) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
    spa.sendv_prinfo.pr_value = *reliability.max_retransmits;
  } else if (reliability.max_packet_lifetime_ms) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
    spa.sendv_prinfo.pr_value = *reliability.max_packet_lifetime_ms;
  }
  ssize_t n = usrsctp_sendv(socket_, data.data(), data.size(), nullptr, 0, &spa, sizeof(spa),
                            SCTP_SENDV_SPA, 0);
  return n >= 0 && static_cast<size_t>(n) == data.size();
}

void SctpAssociation::close_channel(uint16_t stream) {
  auto it = channels_.find(stream);
  if (it == channels_.end() || it->second.state == ChannelState::kClosing) return;
  if (state_ != State::kConnected) {  // nothing of it is on the wire
    channels_.erase(it);
    return;
  }
  it->second.state = ChannelState::kClosing;
  reset_outgoing(stream, it->second);
}

void SctpAssociation::reset_outgoing(uint16_t stream, Channel& channel) {
  if (channel.outgoing_reset) return;
  channel.outgoing_reset = true;
  // sctp_reset_streams ends in a flexible array of stream ids; room for one.
  alignas(sctp_reset_streams) std::byte storage[sizeof(sctp_reset_streams) + sizeof(uint16_t)]{};
  auto* request = reinterpret_cast<sctp_reset_streams*>(storage);
  request->srs_assoc_id = SCTP_FUTURE_ASSOC;
  request->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  request->srs_number_streams = 1;
  request->srs_stream_list[0] = stream;
  // usrsctp queues the reset until the stream's pending data is sent.
  if (usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_RESET_STREAMS, storage, sizeof(storage)) !=
      0) {
    channel.outgoing_done = true;  // association not open: nothing left to reset
  }
}

void SctpAssociation::forget_if_done(uint16_t stream) {
  auto it = channels_.find(stream);
  if (it != channels_.end() && it->second.outgoing_done && it->second.incoming_reset) {
    channels_.erase(it);
  }
}

}  // namespace parlor::rtc
