#include "app/video/video_provider.hpp"

namespace parlor::app {

std::unique_ptr<VideoProvider> make_video_provider(const VideoSettings& s) {
  if (s.provider.empty() || s.provider == "livekit") return make_livekit_provider(s);
  if (s.provider == "twilio") return make_twilio_provider(s);
  throw BadInput("VIDEO_PROVIDER '" + s.provider +
                 "' is not supported (use 'livekit', or 'twilio' for legacy tokens)");
}

}  // namespace parlor::app
