#pragma once
// Recording taps: hidden receivers of a room's published tracks that feed a recorder instead of
// a network (issue 12). Each tap is a DownTrack like a subscriber's — the highest layer, paused
// and server-muted the way a subscriber is, sequence numbers and timestamps continuous across
// layer switches, video starting at a keyframe — whose RtpSink is a TapSink. It is hidden: it is
// never counted in dynacast (the publisher is not told about it) and no participant sees it.
//
// The room owns its taps and detaches them whenever the track can no longer feed them: the track
// is unpublished, its publisher leaves, the room closes or is destroyed. Every detach tells the
// sink (TapSink::detached) on the worker, after the DownTrack has left the UpTrack, so the owner
// of the sink may then finish the recording on another thread.
//
// Threading: worker thread only. The sink must outlive its attachment (until detached()).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rtc/codecs/codecs.hpp"
#include "rtc/rtcp/rtcp_packet.hpp"
#include "rtc/transport/webrtc_transport.hpp"
#include "sfu/down_track.hpp"

namespace parlor::signal {

struct PublishedTrack;

// What a tap feeds (service/egress_* adapts it to the recorder's egress::RecorderTap).
class TapSink : public rtc::RtpSink {
 public:
  // The DownTrack's sender report for the recorded stream (publisher NTP ↔ recorded RTP time).
  virtual void sender_report(const rtc::rtcp::SenderInfo& info) = 0;
  // True once after the recorder asked for a keyframe.
  virtual bool take_keyframe_request() = 0;
  // The tap is gone (`reason` says why, for logs and errors); no call on this sink follows.
  virtual void detached(const std::string& reason) = 0;
};

// What the recorder needs to know about the stream a tap sends it.
struct TapFormat {
  rtc::Codec codec = rtc::Codec::kUnknown;
  bool video = false;
  uint8_t payload_type = 0;  // the publisher's, kept by the DownTrack
  uint32_t clock_rate = 0;
};

class RecordingTaps {
 public:
  using Clock = std::chrono::steady_clock;

  RecordingTaps() = default;
  ~RecordingTaps();  // detaches every tap ("room closed")
  RecordingTaps(const RecordingTaps&) = delete;
  RecordingTaps& operator=(const RecordingTaps&) = delete;

  // The stream a tap on this track would send (nullopt when the track has no media side yet).
  static std::optional<TapFormat> format_of(const PublishedTrack& track);
  // Attaches a tap named `id` (unique per room) to a published track; false when the track
  // cannot be tapped (not published, no media side) or the id is taken.
  bool attach(const std::string& id, PublishedTrack& track, TapSink& sink, Clock::time_point now);
  // Detaches one tap; false when there is no such tap.
  bool detach(const std::string& id, const std::string& reason);
  // The track is going away (unpublished, or its publisher leaves).
  void track_gone(const std::string& track_sid, const std::string& reason);
  void detach_all(const std::string& reason);
  // Room tick: keyframe requests from the recorders; sender reports once a second.
  void tick(Clock::time_point now);
  size_t size() const { return taps_.size(); }

 private:
  struct Tap {
    std::string id;
    std::string track_sid;
    PublishedTrack* track = nullptr;  // non-owning; the room detaches before the track goes
    TapSink* sink = nullptr;
    std::unique_ptr<sfu::DownTrack> down;
  };
  // Takes the tap off its UpTrack and tells its sink; the Tap is already out of taps_.
  static void release(Tap& tap, const std::string& reason);

  std::vector<Tap> taps_;
  Clock::time_point last_report_{};
};

}  // namespace parlor::signal
