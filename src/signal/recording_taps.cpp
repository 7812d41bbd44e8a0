#include "signal/recording_taps.hpp"

#include <algorithm>

#include "common/boundary.hpp"
#include "common/encoding.hpp"
#include "signal/participant.hpp"

namespace parlor::signal {

namespace {
// Sender reports to the recorder: often enough to line audio and video up within a second of
// the start, rarely enough to cost nothing.
constexpr auto kSenderReportInterval = std::chrono::seconds(1);
// The highest simulcast layer (a recording wants the best picture the publisher sends).
constexpr int kHighestLayer = 2;

uint32_t tap_ssrc() {
  auto id = common::random_id("", 8);
  uint32_t v = 0;
  for (char c : id) v = v * 131 + static_cast<unsigned char>(c);
  return v | 0x10000000u;
}
}  // namespace

RecordingTaps::~RecordingTaps() { detach_all("the room closed"); }

std::optional<TapFormat> RecordingTaps::format_of(const PublishedTrack& track) {
  if (!track.up || track.codec.payload_type < 0) return std::nullopt;
  TapFormat f;
  f.codec = track.up->codec();
  f.video = track.up->video();
  f.payload_type = static_cast<uint8_t>(track.codec.payload_type);
  f.clock_rate = track.up->clock_rate();
  return f;
}

bool RecordingTaps::attach(const std::string& id, PublishedTrack& track, TapSink& sink,
                           Clock::time_point now) {
  auto format = format_of(track);
  if (!track.published || !format) return false;
  if (std::any_of(taps_.begin(), taps_.end(), [&](const Tap& t) { return t.id == id; })) return false;
  Tap tap;
  tap.id = id;
  tap.track_sid = track.info.sid();
  tap.track = &track;
  tap.sink = &sink;
  // The publisher's own payload type: the recorder is told it, no mapping is needed. A RED
  // publisher's audio reaches the tap as its primary Opus blocks (no set_red).
  tap.down = std::make_unique<sfu::DownTrack>(sink, tap_ssrc(), format->payload_type, format->video);
  tap.down->set_max_layer(kHighestLayer);
  tap.down->set_hidden(true);  // never counted in dynacast: the publisher must not learn of it
  track.up->add(tap.down.get());
  if (format->video) track.up->request_keyframe(*tap.down, now, true);
  taps_.push_back(std::move(tap));
  return true;
}

void RecordingTaps::release(Tap& tap, const std::string& reason) {
  if (tap.track && tap.track->up) tap.track->up->remove(tap.down.get());
  tap.track = nullptr;
  // The sink's owner may finish the recording now; its exception must not unwind the room.
  if (auto caught = guarded([&] { tap.sink->detached(reason); })) {
    (void)caught;  // the owner logs its own failures; nothing here can act on it
  }
}

bool RecordingTaps::detach(const std::string& id, const std::string& reason) {
  auto it = std::find_if(taps_.begin(), taps_.end(), [&](const Tap& t) { return t.id == id; });
  if (it == taps_.end()) return false;
  Tap tap = std::move(*it);
  taps_.erase(it);
  release(tap, reason);
  return true;
}

void RecordingTaps::track_gone(const std::string& track_sid, const std::string& reason) {
  std::vector<Tap> gone;
  for (auto it = taps_.begin(); it != taps_.end();) {
    if (it->track_sid == track_sid) {
      gone.push_back(std::move(*it));
      it = taps_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& tap : gone) release(tap, reason);
}

void RecordingTaps::detach_all(const std::string& reason) {
  std::vector<Tap> gone = std::move(taps_);
  taps_.clear();
  for (auto& tap : gone) release(tap, reason);
}

void RecordingTaps::tick(Clock::time_point now) {
  const bool report = now - last_report_ >= kSenderReportInterval;
  if (report) last_report_ = now;
  for (auto& tap : taps_) {
    if (!tap.track || !tap.track->up) continue;
    // A video tap waiting for its first picture keeps asking (the UpTrack throttles it), as a
    // subscriber's does; otherwise only when the recorder lost a picture.
    bool wants = tap.sink->take_keyframe_request();
    if (tap.down->video() && (wants || tap.down->waiting_for_keyframe())) {
      tap.track->up->request_keyframe(*tap.down, now, wants);
    }
    if (report) {
      if (auto info = tap.down->sender_report(now)) tap.sink->sender_report(*info);
    }
  }
}

}  // namespace parlor::signal
