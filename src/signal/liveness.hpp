#pragma once
// Is a participant still there? The room asks on every tick (400 ms) from what its signaling
// connection and its transports last showed (issue 13):
//
// * WebSocket gone, and nothing heard on any transport for `peer_silence` (measured from the
//   last packet, or from the WebSocket loss if no transport ever heard the peer): the process
//   is dead; remove it at once. While media still arrives it keeps its place for a resume, up
//   to `resume_window` after the WebSocket loss.
// * WebSocket open, but a transport that had heard the peer has heard nothing for
//   `ice_consent` (consent freshness, RFC 7675 §5.1): the media path broke (a changed network,
//   a firewall). The client is asked to resume (it restarts ICE and keeps its session); if
//   nothing is heard for another `ice_consent` after that, the participant is removed and told
//   to reconnect from scratch. While a requested resume is under way, silence counts from the
//   request, so the client closing its WebSocket to resume is not taken for a dead process.
// * WebSocket open, media never connected within `connect_deadline`: removed.
//
// Pure: explicit time points in, a verdict out; no clock, no I/O (tests/unit/signal/liveness_test).
#include <array>
#include <chrono>
#include <optional>

#include "common/config/media_config.hpp"

namespace parlor::signal {

struct LivenessTimeouts {
  using Duration = std::chrono::steady_clock::duration;
  Duration peer_silence = std::chrono::seconds(3);   // rtc.peer_silence_timeout
  Duration ice_consent = std::chrono::seconds(10);   // rtc.ice_consent_timeout
  // How long a session whose signaling dropped (while its media flows) waits for a resume. The
  // JS SDK retries for ~45 s in all, a resume first and a full reconnect after.
  Duration resume_window = std::chrono::seconds(15);
  // A session whose media never connected is given up (LiveKit: 60 s).
  Duration connect_deadline = std::chrono::seconds(30);

  static LivenessTimeouts from(const config::RtcConfig& rtc);
};

// What the room knows of one participant at a tick.
struct PeerActivity {
  using TimePoint = std::chrono::steady_clock::time_point;
  TimePoint created{};
  std::optional<TimePoint> signal_lost_at;  // nullopt while the WebSocket is open
  bool media_connected = false;             // DTLS-SRTP up on one of its transports
  // Per transport (the only PC or the v0 publisher PC, then the v0 subscriber PC): when the
  // peer was last heard on it; nullopt = never (or no such transport).
  std::array<std::optional<TimePoint>, 2> last_heard{};
  // When the server asked the client to resume after a silent transport, while nothing has
  // been heard since (nullopt otherwise).
  std::optional<TimePoint> resume_requested_at;
};

enum class Liveness {
  kAlive,
  kNeverConnected,   // WebSocket open, media not connected by the deadline
  kPeerGone,         // WebSocket gone and every transport silent: a dead process
  kResumeExpired,    // WebSocket gone, media still flowing, no resume within the window
  kConsentExpired,   // WebSocket open, a transport silent past consent freshness: ask to resume
  kMediaFailed,      // ... and still silent `ice_consent` after the resume was asked for
};

const char* to_string(Liveness l);

Liveness judge_liveness(const PeerActivity& peer, const LivenessTimeouts& timeouts,
                        PeerActivity::TimePoint now);

}  // namespace parlor::signal
