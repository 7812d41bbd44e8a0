// Staff moderation of a visit's room: POST /visits/{id}/moderation/{mute,remove,end}. Each goes
// to the media tier through the video provider; a provider without room control (the legacy
// Twilio provider mints tokens only) answers 501 before anything changes. "end" closes the room
// whatever the visit's status: a visit that is not final yet becomes terminated (recorded and
// audited once, as moderation.end); for one already final, only the room is closed (room.closed).
#include "app/api/handlers.hpp"
#include "app/api/visit_recordings.hpp"
#include "app/api/visit_rooms.hpp"
#include "common/errors.hpp"

namespace parlor::app {

MaybeResponse handle_moderation(ApiContext& ctx, const Call& call, VisitRow& v,
                                const std::string& action) {
  call.require_staff();
  auto b = parse_body(call.req);
  if (action != "mute" && action != "remove" && action != "end") return std::nullopt;
  if (!ctx.video.supports_room_control()) {
    throw NotSupported(std::string("moderation is not available with VIDEO_PROVIDER=") +
                       ctx.video.name() + " (a legacy provider that mints join tokens only)");
  }
  const std::string target = "visit:" + std::to_string(v.id);
  if (action == "mute") {
    auto identity = need_string(b, "identity");
    auto track = need_string(b, "trackSid");
    bool muted = b.value("muted", true);
    ctx.video.mute_track(v.room, identity, track, muted);
    ctx.audit(call.actor(), muted ? "moderation.mute" : "moderation.unmute", target,
              {{"identity", identity}, {"trackSid", track}});
    return json_reply(200, json::object());
  }
  if (action == "remove") {
    auto identity = need_string(b, "identity");
    ctx.video.remove_participant(v.room, identity);
    ctx.audit(call.actor(), "moderation.remove", target, {{"identity", identity}});
    return json_reply(200, json::object());
  }
  auto reason = need_string(b, "reason", 500, false);
  const bool was_final = is_final(visit_status_from(v.status).value_or(VisitStatus::kRequested));
  if (!was_final) {
    ctx.set_status(v, VisitStatus::kTerminated, reason.empty() ? "ended by staff" : reason);
    ctx.audit(call.actor(), "moderation.end", target, {{"reason", v.ended_reason}});
  }
  try {
    ctx.video.send_data(v.room, json{{"type", "visit_ended"}, {"reason", v.ended_reason}}.dump(),
                        "parlor");
  } catch (const InternalError&) {
    // The room may not exist; closing it still matters.
  }
  mark_room_opened(ctx, v.id, false);
  stop_visit_recording(ctx, v.id);  // a failure is logged and retried by the jobs
  ctx.video.end_room(v.room);  // a failure here is the staff's to see (502); "end" may be repeated
  if (was_final) {
    ctx.audit(call.actor(), "room.closed", target,
              {{"room", v.room}, {"status", v.status}, {"reason", "ended by staff"}});
  }
  return json_reply(200, {{"visit", ApiContext::visit_json(v)}});
}

}  // namespace parlor::app
