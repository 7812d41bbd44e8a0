#pragma once
// Pieces of an SDP answer from this worker (we are ICE-lite, DTLS passive, BUNDLE, rtcp-mux),
// shared by the camera check and the rooms.
#include <optional>
#include <string>

#include "rtc/sdp/session_description.hpp"
#include "rtc/transport/webrtc_transport.hpp"
#include "sfu/worker.hpp"

namespace parlor::sfu {

// A new answer with the session-level lines (origin, ice-lite, msid-semantic); the BUNDLE group
// is added by the caller once the accepted mids are known.
rtc::SessionDescription begin_answer(const Worker& worker, uint64_t version);

// An answer section for `offered` that rejects it (port 0, inactive).
rtc::SdpMedia rejected_section(const rtc::SdpMedia& offered);

// An accepted section carrying the transport attributes: mid, port and address, ICE
// credentials, DTLS fingerprint and a=setup:passive, and for media rtcp-mux (+ rtcp-rsize when
// offered). `with_candidate` adds our host candidate and end-of-candidates.
rtc::SdpMedia accepted_section(const rtc::SdpMedia& offered, const Worker& worker,
                               const rtc::WebRtcTransport& transport, bool with_candidate);

// The codec we forward for an offered audio/video section: Opus or VP8, with the offer's
// payload type; nullopt if the offer has neither.
std::optional<rtc::SdpCodec> pick_codec(const rtc::SdpMedia& offered);
// Writes the payload type, rtpmap, fmtp and (video) NACK/PLI/FIR feedback lines.
// `transport_cc`: we send transport-wide congestion control feedback for what arrives in this
// section (the publisher then runs its delay-based estimator on it).
void add_codec(rtc::SdpMedia& answer, const rtc::SdpCodec& codec, bool transport_cc = false);

// The data channel section: SCTP port and max-message-size. Returns the peer's SCTP port and
// the message size both sides accept, for WebRtcTransport::enable_sctp.
struct SctpParams {
  uint16_t remote_port = 5000;
  size_t max_message_size = 65536;
};
std::optional<SctpParams> add_sctp_attributes(const rtc::SdpMedia& offered, rtc::SdpMedia& answer,
                                              size_t our_max_message_size);

}  // namespace parlor::sfu
