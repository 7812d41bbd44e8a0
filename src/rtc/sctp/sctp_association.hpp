#pragma once
// WebRTC data channels: one SCTP association over DTLS (RFC 8261) on usrsctp, with the data
// channel semantics of RFC 8831 and DCEP (RFC 8832). Sans-I/O: SCTP packets come in through
// receive(), go out through Listener::on_sctp_send, and the caller drives usrsctp's clock with
// the static handle_timers().
//
// Threading: usrsctp is one process-wide stack, initialised once without its own threads
// (usrsctp_init_nothreads); it locks its own state, so associations may live on several threads
// (one per media worker), each used only on the thread that created it (its owner). One thread
// calls handle_timers() (the first media worker): it fires the timers of every association, and
// what that raises for an association owned elsewhere (a retransmission, a heartbeat, a delayed
// SACK, the end of the association) is handed to Options::run_on_owner, so listeners are only
// ever called on the owner's thread (packets sent from a timer are copied to get there).
//
// Re-entrancy: on_sctp_send is called from inside usrsctp (its locks are held) and must not call
// back into any SctpAssociation. Every other listener method is called after usrsctp has
// returned, so it may call send(), open_channel(), close_channel(), or even destroy the
// association (nothing more is delivered after that). Spans passed to the listener are valid
// only during the call.
//
// Lifetime: the listener must outlive the association. The destructor calls no listener method
// and sends nothing (the socket is closed with SO_LINGER 0 after the association is detached);
// the peer learns of the end from DTLS close_notify or consent expiry.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

struct socket;  // usrsctp's

namespace parlor::rtc {

class SctpAssociation {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // One SCTP packet to send as one DTLS record (DtlsTransport::send). Called inside usrsctp.
    virtual void on_sctp_send(std::span<const uint8_t> packet) = 0;
    virtual void on_sctp_connected() = 0;
    // The association ended (peer ABORT, SHUTDOWN, or retransmissions exhausted). Open channels
    // get on_channel_closed first. Called at most once.
    virtual void on_sctp_closed() = 0;
    // The peer opened a channel (DCEP OPEN, already ACKed), or our open was ACKed.
    virtual void on_channel_open(uint16_t stream, const std::string& label,
                                 const std::string& protocol) = 0;
    virtual void on_channel_message(uint16_t stream, std::span<const uint8_t> data,
                                    bool binary) = 0;
    // The peer reset its outgoing stream (it closed, or answered our close). The stream id may
    // be reused by open_channel() once both directions are reset.
    virtual void on_channel_closed(uint16_t stream) = 0;
  };

  struct Options {
    uint16_t local_port = 5000;   // SDP a=sctp-port (ours)
    uint16_t remote_port = 5000;  // SDP a=sctp-port (theirs)
    // Largest message sent or accepted (SDP a=max-message-size); larger ones are dropped.
    size_t max_message_size = 262144;
    // Stream id parity: the DTLS client uses even ids, the server odd ones (RFC 8832 §6).
    bool dtls_client = false;
    // Most channels open at once; further peer OPENs are refused by resetting their stream.
    size_t max_channels = 64;
    // Queues a task to run on the owner's thread (see Threading). Empty: run at once (one
    // thread does everything, as in tests).
    std::function<void(std::function<void()>)> run_on_owner;
  };

  struct ChannelOptions {
    bool ordered = true;
    // At most one of the two (partial reliability, RFC 3758); max_retransmits wins if both.
    std::optional<uint16_t> max_retransmits;
    std::optional<uint16_t> max_packet_lifetime_ms;
    std::string protocol;
  };

  struct Counters {
    uint64_t messages_in = 0, messages_out = 0, oversize_dropped = 0, malformed_dcep = 0;
    // User messages for a stream without an open channel, or with an unknown PPID.
    uint64_t unknown_dropped = 0;
  };

  // Throws parlor::InternalError if usrsctp refuses the socket or one of its options.
  SctpAssociation(Options options, Listener& listener);
  ~SctpAssociation();
  SctpAssociation(const SctpAssociation&) = delete;
  SctpAssociation& operator=(const SctpAssociation&) = delete;

  // Binds and connects: both sides send INIT (simultaneous open over DTLS, RFC 8841 §9.3).
  // Call once DTLS is connected. Packets received before start() are kept (a few) and fed in
  // right after the INIT is sent.
  void start();
  // One SCTP packet from DTLS application data (DtlsTransport::Listener::on_dtls_data).
  void receive(std::span<const uint8_t> packet);

  // Opens a channel on the next free stream of our parity and sends DCEP OPEN (at once if
  // connected, else when the association comes up). nullopt if max_channels are open, no stream
  // id is free, the label is too long, or the OPEN cannot be queued.
  std::optional<uint16_t> open_channel(const std::string& label, const ChannelOptions& options);
  // Sends one message. False if too large (counted), the channel is unknown or closing, the
  // association is not connected, or the send buffer is full (the caller may retry later).
  bool send(uint16_t stream, std::span<const uint8_t> data, bool binary);
  // Resets our outgoing stream (RFC 8831 §6.7); the peer answers by resetting its own, which
  // arrives as on_channel_closed.
  void close_channel(uint16_t stream);

  bool connected() const { return state_ == State::kConnected; }
  const Counters& counters() const { return counters_; }

  // Advances usrsctp's clock for every association (retransmissions, delayed SACKs,
  // heartbeats). Call every ~10 ms from the media worker's timer with the elapsed milliseconds.
  static void handle_timers(uint32_t elapsed_ms);

 private:
  enum class State { kNew, kConnecting, kConnected, kClosed };
  enum class ChannelState {
    kPendingOpen,  // created before the association came up; OPEN not sent yet
    kOpening,      // OPEN sent, waiting for ACK (we may already send, ordered)
    kOpen,
    kClosing,  // our outgoing stream reset requested or done; waiting for the peer's
  };
  struct Channel {
    ChannelState state = ChannelState::kPendingOpen;
    std::string label;
    ChannelOptions options;
    bool announced = false;       // the listener knows this stream (not a refused peer OPEN)
    bool outgoing_reset = false;  // we asked to reset our outgoing stream
    bool outgoing_done = false;   // ... and that reset finished (or could not be sent)
    bool incoming_reset = false;  // the peer reset its outgoing stream
  };

  // C callbacks bound to usrsctp (see sctp_association.cpp).
  friend struct UsrsctpBinding;

  // Handlers below return false when a listener callback destroyed *this; the caller must then
  // return at once without touching members.
  template <typename F>
  bool call_listener(F&& f);
  void drain();
  bool handle_fragment(uint16_t stream, uint32_t ppid, std::span<const uint8_t> bytes,
                       bool end_of_record);
  bool handle_notification(std::span<const uint8_t> bytes);
  bool handle_association_change(std::span<const uint8_t> bytes);
  bool handle_stream_reset(std::span<const uint8_t> bytes);
  bool handle_message(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data);
  bool handle_dcep(uint16_t stream, std::span<const uint8_t> data);
  bool acknowledge(uint16_t stream, Channel& channel);
  bool fail_all();

  bool send_raw(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data,
                const ChannelOptions& reliability, bool ordered_only);
  bool send_open(uint16_t stream, Channel& channel);
  void reset_outgoing(uint16_t stream, Channel& channel);
  void forget_if_done(uint16_t stream);
  std::optional<uint16_t> free_stream() const;

  // passed in
  Options options_;
  Listener& listener_;
  // owned
  struct socket* socket_ = nullptr;
  std::shared_ptr<void> life_;  // expires with *this, so drain() notices a listener deleting us
  const std::thread::id owner_ = std::this_thread::get_id();
  // Whether the caller is on the owner's thread, or nothing could take the work there.
  bool owned_here() const { return !options_.run_on_owner || owner_ == std::this_thread::get_id(); }
  std::vector<uint8_t> recv_buffer_;
  // state
  State state_ = State::kNew;
  uint16_t stream_limit_;  // negotiated number of streams, min(in, out)
  std::map<uint16_t, Channel> channels_;
  std::vector<std::vector<uint8_t>> early_packets_;  // received before start()
  std::vector<uint8_t> partial_message_;             // reassembly of a partial delivery
  bool discarding_ = false;                          // the message being reassembled is too big
  bool draining_ = false;                            // inside drain()
  std::vector<uint8_t> partial_notification_;
  Counters counters_;
};

}  // namespace parlor::rtc
