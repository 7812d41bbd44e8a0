#pragma once
// How the app reaches the media tier. The LiveKit provider speaks only the LiveKit protocol
// (access tokens, Twirp RoomService over HTTP, signed webhooks), so it works the same against
// the embedded `parlor media` and an external LiveKit deployment. The legacy Twilio provider
// (VIDEO_PROVIDER=twilio) mints Twilio Video access tokens and nothing else.
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/errors.hpp"

namespace parlor::app {

// The configured provider cannot do this (e.g. moderation with the token-only Twilio provider).
// The API answers 501 not_implemented.
class NotSupported : public Error {
 public:
  using Error::Error;
};

struct VideoSettings {
  std::string provider = "livekit";  // VIDEO_PROVIDER: livekit (default) | twilio (legacy)
  std::string url;                   // LIVEKIT_URL, e.g. ws://127.0.0.1:7880
  std::string api_key;               // LIVEKIT_API_KEY
  std::string api_secret;            // LIVEKIT_API_SECRET
  // PEM CA bundle trusted for a wss:// / https:// LIVEKIT_URL (a private CA or the media
  // server's self-signed certificate); empty = the system's store. LIVEKIT_CA_FILE.
  std::string ca_file;
  // VIDEO_PROVIDER=twilio only:
  std::string twilio_account_sid;  // TWILIO_ACCOUNT_SID, AC...
  std::string twilio_api_key;      // TWILIO_API_KEY, SK... (an API key's SID)
  std::string twilio_api_secret;   // TWILIO_API_SECRET
  std::chrono::seconds token_ttl{std::chrono::minutes(15)};
};

struct JoinGrant {
  std::string room;
  std::string identity;
  std::string name;
  std::string metadata;
  bool monitor = false;  // hidden, subscribe-only (staff monitoring)
  int64_t expires_at = 0;  // Unix seconds the token stops working at; 0 = settings.token_ttl
};

// A room the app opens for a visit (LiveKit CreateRoomRequest; 0 = the media server's default).
struct RoomOptions {
  std::string name;
  uint32_t max_participants = 0;
  uint32_t empty_timeout = 0;      // seconds the room waits for its first participant
  uint32_t departure_timeout = 0;  // seconds it stays open after the last participant left
  std::string metadata;            // room metadata (JSON); empty = leave it as it is
};

// One room as ListRooms reports it.
struct RoomSummary {
  std::string name;
  uint32_t num_participants = 0;
  std::string metadata;
};

struct JoinToken {
  std::string token;
  int64_t expires_at = 0;  // Unix seconds
};

class VideoProvider {
 public:
  virtual ~VideoProvider() = default;
  virtual const char* name() const = 0;
  virtual JoinToken join_token(const JoinGrant& grant) = 0;
  // Whether the calls below reach a room; when false they throw NotSupported.
  virtual bool supports_room_control() const { return true; }
  // Moderation; each throws parlor::InternalError with the media tier's message on failure.
  virtual void mute_track(const std::string& room, const std::string& identity,
                          const std::string& track_sid, bool muted) = 0;
  virtual void remove_participant(const std::string& room, const std::string& identity) = 0;
  // CreateRoom: idempotent (an existing room is kept, its timeouts and limit updated). Returns
  // the room as the media tier reports it: LiveKit keeps an existing room's metadata, so a
  // caller that needs metadata set checks it here and calls update_room_metadata.
  virtual RoomSummary create_room(const RoomOptions& options) = 0;
  virtual void update_room_metadata(const std::string& room, const std::string& metadata) = 0;
  // DeleteRoom: disconnects everyone; a room that is already gone is not an error.
  virtual void end_room(const std::string& room) = 0;
  virtual std::vector<RoomSummary> list_rooms() = 0;
  virtual void send_data(const std::string& room, const std::string& payload,
                         const std::string& topic) = 0;
  virtual nlohmann::json list_participants(const std::string& room) = 0;
  // Recording (LiveKit Egress API): whether the provider can record at all; a room composite
  // (everyone's video side by side, audio mixed) into one MP4 file at `filepath` (relative to
  // the media tier's recordings directory; LiveKit's {room_name}/{time} templates allowed),
  // returning the egress id; StopEgress (an egress that already ended is not an error). Each
  // throws parlor::InternalError with the media tier's message on failure.
  virtual bool supports_recording() const { return supports_room_control(); }
  virtual std::string start_room_recording(const std::string& room, const std::string& filepath) = 0;
  virtual void stop_recording(const std::string& egress_id) = 0;
  // Verifies a webhook's Authorization header against the body; returns the parsed event JSON.
  // Throws parlor::Unauthenticated if the signature or body hash does not match.
  virtual nlohmann::json verify_webhook(const std::string& body, const std::string& auth) = 0;
};

// Throws parlor::BadInput for unknown providers or missing settings.
std::unique_ptr<VideoProvider> make_video_provider(const VideoSettings& settings);
std::unique_ptr<VideoProvider> make_livekit_provider(const VideoSettings& settings);
std::unique_ptr<VideoProvider> make_twilio_provider(const VideoSettings& settings);

}  // namespace parlor::app
