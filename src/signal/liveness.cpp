#include "signal/liveness.hpp"

#include <algorithm>

namespace parlor::signal {

namespace {
std::chrono::steady_clock::duration seconds(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}
}  // namespace

LivenessTimeouts LivenessTimeouts::from(const config::RtcConfig& rtc) {
  LivenessTimeouts t;
  t.peer_silence = seconds(rtc.peer_silence_timeout_seconds);
  t.ice_consent = seconds(rtc.ice_consent_timeout_seconds);
  return t;
}

const char* to_string(Liveness l) {
  switch (l) {
    case Liveness::kAlive: return "alive";
    case Liveness::kNeverConnected: return "never connected";
    case Liveness::kPeerGone: return "signal and media gone";
    case Liveness::kResumeExpired: return "no resume in time";
    case Liveness::kConsentExpired: return "ice consent expired";
    case Liveness::kMediaFailed: return "no media after a requested resume";
  }
  return "?";
}

Liveness judge_liveness(const PeerActivity& peer, const LivenessTimeouts& timeouts,
                        PeerActivity::TimePoint now) {
  std::optional<PeerActivity::TimePoint> last;
  for (const auto& heard : peer.last_heard) {
    if (heard && (!last || *heard > *last)) last = heard;
  }
  if (peer.signal_lost_at) {
    // Silence counts from the last packet; a peer never heard is silent since the WebSocket went.
    auto silent_since = last ? *last : *peer.signal_lost_at;
    if (peer.resume_requested_at && *peer.resume_requested_at > silent_since) silent_since = *peer.resume_requested_at;
    if (now - silent_since >= timeouts.peer_silence) return Liveness::kPeerGone;
    if (now - *peer.signal_lost_at > timeouts.resume_window) return Liveness::kResumeExpired;
    return Liveness::kAlive;
  }
  if (!peer.media_connected && now - peer.created > timeouts.connect_deadline) {
    return Liveness::kNeverConnected;
  }
  for (const auto& heard : peer.last_heard) {
    if (heard && now - *heard >= timeouts.ice_consent) {
      if (!peer.resume_requested_at) return Liveness::kConsentExpired;
      if (now - *peer.resume_requested_at >= timeouts.ice_consent) return Liveness::kMediaFailed;
      return Liveness::kAlive;  // the asked-for resume is under way
    }
  }
  return Liveness::kAlive;
}

}  // namespace parlor::signal
