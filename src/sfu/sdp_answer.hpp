#pragma once
// Pieces of an SDP answer from this worker (we are ICE-lite, DTLS passive, BUNDLE, rtcp-mux),
// shared by the camera check and the rooms.
#include <optional>
#include <string>

#include "rtc/codecs/codecs.hpp"
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

// The codec to receive in an offered audio/video section: `preferred` (what the publisher asked
// for in its AddTrackRequest, as LiveKit honours it) if offered, else the first one in the offer's
// order that we forward: Opus for audio; VP8 or H.264 (packetization-mode 1) for video. With the
// offer's payload type; nullopt if the offer has none of them.
std::optional<rtc::SdpCodec> pick_codec(const rtc::SdpMedia& offered, rtc::Codec preferred = rtc::Codec::kUnknown);
// The offered codec that can carry a stream published as `sent` (a subscriber's receiving
// section): same codec; for H.264 packetization-mode 1 and the same profile-level-id if offered,
// else the same profile, else any (receivers decode other levels with level-asymmetry-allowed).
std::optional<rtc::SdpCodec> match_codec(const rtc::SdpMedia& offered, const rtc::SdpCodec& sent);
// What we offer to a subscriber (two-connection path) for a stream published as `sent`: its
// codec under the payload type LiveKit uses for it (Opus 111, VP8 96, H.264 125), with fixed
// parameters. VP8 for an unknown codec.
rtc::SdpCodec subscriber_codec(const rtc::SdpCodec& sent);
// The offered RTX codec (RFC 4588) that repairs payload type `apt`, if any.
std::optional<rtc::SdpCodec> find_rtx(const rtc::SdpMedia& offered, int apt);
// The RTX payload type of the two-connection offer for a video codec there (VP8 97, H.264 107).
rtc::SdpCodec subscriber_rtx(const rtc::SdpCodec& media);
// Adds an RTX codec after the media codec add_codec wrote: format, rtpmap and fmtp apt.
void add_rtx(rtc::SdpMedia& answer, const rtc::SdpCodec& rtx, int apt);
// The offered Opus RED codec (RFC 2198, "red/48000/2" with fmtp "<opus>/<opus>"), if any.
std::optional<rtc::SdpCodec> find_red(const rtc::SdpMedia& offered, int opus_payload_type);
// RED on the two-connection offer: payload type 63 over Opus 111, as LiveKit offers it.
rtc::SdpCodec subscriber_red();
// Puts RED ahead of the Opus codec add_codec wrote, so the sender sends RED (a browser sends the
// first codec of the answer).
void add_red(rtc::SdpMedia& answer, const rtc::SdpCodec& red, int opus_payload_type);
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
