// VIDEO_PROVIDER=twilio: the legacy provider for facilities still on Twilio Video. It mints
// Twilio access tokens for /calls/join and nothing else: no room control (moderation, data
// messages, participant lists, recording) and no webhooks, so those answer 501 / are skipped.
#include <algorithm>
#include <chrono>

#include "app/video/twilio_token.hpp"
#include "app/video/video_provider.hpp"

namespace parlor::app {
namespace {

class TwilioProvider : public VideoProvider {
 public:
  TwilioProvider(TwilioCredentials credentials, std::chrono::seconds ttl)
      : credentials_(std::move(credentials)), ttl_(ttl) {}

  const char* name() const override { return "twilio"; }
  bool supports_room_control() const override { return false; }

  // Twilio grants have no hidden or subscribe-only participants: a monitoring token is an
  // ordinary one, so the caller must not offer monitoring where that matters.
  JoinToken join_token(const JoinGrant& g) override {
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    auto ttl = ttl_;
    if (g.expires_at) ttl = std::chrono::seconds(std::max<int64_t>(1, g.expires_at - now));
    JoinToken t;
    t.token = mint_twilio_video_token(credentials_, g.identity, g.room, now, ttl);
    t.expires_at = now + ttl.count();
    return t;
  }

  void mute_track(const std::string&, const std::string&, const std::string&, bool) override {
    unsupported("muting");
  }
  void remove_participant(const std::string&, const std::string&) override {
    unsupported("removing participants");
  }
  RoomSummary create_room(const RoomOptions&) override { unsupported("opening rooms"); }
  void update_room_metadata(const std::string&, const std::string&) override {
    unsupported("room metadata");
  }
  bool supports_recording() const override { return false; }
  std::string start_room_recording(const std::string&, const std::string&) override {
    unsupported("recording");
  }
  void stop_recording(const std::string&) override { unsupported("recording"); }
  void end_room(const std::string&) override { unsupported("ending rooms"); }
  std::vector<RoomSummary> list_rooms() override { unsupported("listing rooms"); }
  void send_data(const std::string&, const std::string&, const std::string&) override {
    unsupported("data messages");
  }
  nlohmann::json list_participants(const std::string&) override {
    unsupported("listing participants");
  }
  nlohmann::json verify_webhook(const std::string&, const std::string&) override {
    throw Unauthenticated("VIDEO_PROVIDER=twilio receives no LiveKit webhooks");
  }

 private:
  [[noreturn]] static void unsupported(const std::string& what) {
    throw NotSupported(what +
                       " is not available with VIDEO_PROVIDER=twilio (legacy: join tokens only)");
  }

  TwilioCredentials credentials_;
  std::chrono::seconds ttl_;
};

}  // namespace

std::unique_ptr<VideoProvider> make_twilio_provider(const VideoSettings& s) {
  TwilioCredentials c{s.twilio_account_sid, s.twilio_api_key, s.twilio_api_secret};
  validate_twilio_credentials(c);
  return std::make_unique<TwilioProvider>(std::move(c), s.token_ttl);
}

}  // namespace parlor::app
