#pragma once
// A visit's room lives exactly as long as the visit (docs/api.md, "Rooms"). The media server runs
// with `room.auto_create: false`, so only the app makes rooms: it opens a visit's room
// (RoomService CreateRoom) when the join window opens, and again on a join inside the window (so
// a restarted media server heals), and closes it (DeleteRoom) on every final status. Join tokens
// expire at the visit's end plus AppSettings::token_grace. A periodic check compares ListRooms
// with the visits and closes, with an audit entry, any room that should not exist.
//
// Everything here speaks the LiveKit protocol through the VideoProvider, so it works the same
// against `parlor media` and an external LiveKit. Called under AppApi's lock; what
// several app instances must agree on lives in the database.
#include <cstdint>
#include <string>

#include "app/api/api_context.hpp"

namespace parlor::app {

// When join tokens for a visit stop working: its end plus the grace. Never later.
int64_t token_expiry(const AppSettings& settings, int64_t start, int duration_minutes);

// The room metadata of a privileged visit: `existing` (JSON object, or anything else kept under
// "previous") with "recording":"forbidden" merged in, which makes the media server refuse any
// egress of the room (docs/recording.md).
std::string privileged_room_metadata(const std::string& existing, long long visit_id);
bool recording_forbidden(const std::string& metadata);

// CreateRoom for the visit (idempotent): at most its resident, its visitors and the monitor
// slots; it waits for its first participant until the tokens expire and outlives its last one by
// room_departure_timeout. A privileged visit's room says recording is forbidden in its
// metadata (set on creation, else UpdateRoomMetadata). Throws parlor::InternalError when the
// media tier fails.
void open_visit_room(ApiContext& ctx, const VisitRow& v, int64_t now);

// Records in the visit's row whether its room is open (visits.room_opened), so every app
// instance on the database knows the join window's CreateRoom was done.
void mark_room_opened(ApiContext& ctx, long long visit_id, bool opened);

// StopEgress (visit_recordings.hpp) and DeleteRoom after the visit reached a final status. A failure is logged and left to the
// periodic check, which closes rooms of finished visits; the status change already happened.
void close_visit_room(ApiContext& ctx, long long visit_id, const std::string& room);

// Whether `identity`, as /calls/join mints it, belongs in visit `v`'s room now: its resident,
// a visitor still listed on it, or staff.
bool identity_belongs(const VisitRow& v, const std::string& identity);

// The periodic check (run from the jobs timer every reconcile_interval): rooms with people whose
// visit is not live (nor scheduled inside its join window), or whose visit is unknown, and rooms
// of visits that are final or outside their window, are closed and audited as `room.closed`;
// live and open visits whose room is missing get it back.
void reconcile_rooms(ApiContext& ctx, int64_t now);

}  // namespace parlor::app
