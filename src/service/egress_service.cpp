// The Egress service's Twirp side: grants, request checks, and the start of each egress on the
// media worker. The recording runtime is in egress_jobs.cpp.
#include "service/egress_service.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/storage/s3_upload.hpp"
#include "service/egress_files.hpp"
#include "service/egress_recording.hpp"
#include "service/join_auth.hpp"
#include "service/live_rooms.hpp"
#include "service/twirp.hpp"

namespace parlor::service {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "/twirp/livekit.Egress/";
constexpr const char* kCompositeDefaultName = "{room_name}-{time}";
constexpr const char* kTrackDefaultName = "{room_name}-{track_id}-{time}";
// Bounds on a composite's picture (an EncodingOptions typo must not ask for a 100k-pixel frame).
constexpr int kMaxWidth = 3840, kMaxHeight = 2160, kMaxFramerate = 60;
// Jobs queued beyond the running ones, per allowed egress: opening and finishing each track,
// one composite; more than that means the pool is stuck.
constexpr size_t kJobsPerEgress = 16;
constexpr size_t kJobThreads = 2;

void require_record_grant(const auth::ClaimGrants& claims) {
  // LiveKit answers a missing grant with Twirp `unauthenticated` (401), "permissions denied".
  if (!claims.video || !claims.video->room_record) {
    throw TwirpError("unauthenticated", "permissions denied");
  }
}

// The request echoed in EgressInfo must not carry upload credentials back to every reader of
// ListEgress or the webhooks.
template <typename Output>
void redact_upload(Output& out) {
  if (out.has_s3()) {
    out.mutable_s3()->set_access_key("");
    out.mutable_s3()->set_secret("");
    out.mutable_s3()->set_session_token("");
  }
  if (out.has_gcp()) out.mutable_gcp()->set_credentials("");
  if (out.has_azure()) out.mutable_azure()->set_account_key("");
  if (out.has_alioss()) out.mutable_alioss()->set_secret("");
}

// Where a finished file goes besides the recordings directory: the request's S3Upload, else the
// configured bucket (egress.s3), else nowhere. GCP, Azure and Alibaba storage are refused.
template <typename Output>
std::optional<storage::S3Target> upload_target(const Output& out, const config::EgressS3Config& fallback) {
  if (out.has_gcp() || out.has_azure() || out.has_alioss()) {
    throw TwirpError("unimplemented",
                     "only S3-compatible uploads are supported (s3); files are also written to the "
                     "server's recordings directory (egress.recordings_dir)");
  }
  storage::S3Target t;
  if (out.has_s3()) {
    const auto& s3 = out.s3();
    if (s3.bucket().empty()) throw TwirpError("invalid_argument", "s3.bucket is required");
    if (!s3.assume_role_arn().empty()) {
      throw TwirpError("unimplemented", "s3.assume_role_arn is not supported: give access_key and secret");
    }
    if (s3.has_proxy() && !s3.proxy().url().empty()) {
      throw TwirpError("unimplemented", "s3.proxy is not supported");
    }
    t.access_key = s3.access_key();
    t.secret = s3.secret();
    t.session_token = s3.session_token();
    if (!s3.region().empty()) t.region = s3.region();
    t.endpoint = s3.endpoint();
    t.bucket = s3.bucket();
    t.force_path_style = s3.force_path_style();
    t.content_disposition = s3.content_disposition();
    t.tagging = s3.tagging();
    for (const auto& [k, v] : s3.metadata()) t.metadata[k] = v;
    return t;
  }
  if (fallback.bucket.empty()) return std::nullopt;
  t.access_key = fallback.access_key;
  t.secret = fallback.secret;
  t.session_token = fallback.session_token;
  t.region = fallback.region;
  t.endpoint = fallback.endpoint;
  t.bucket = fallback.bucket;
  t.force_path_style = fallback.force_path_style;
  return t;
}

// The one file output of a composite request (file_outputs, or the legacy `file`, which the
// Node SDK also copies into file_outputs). Streams, segments and images are refused by name.
template <typename Request>
const livekit::EncodedFileOutput& composite_file_output(const Request& r) {
  if (r.has_stream() || r.stream_outputs_size() > 0) {
    throw TwirpError("unimplemented",
                     "stream outputs (RTMP, SRT, WebSocket) are not supported: Parlor records to "
                     "files");
  }
  if (r.has_segments() || r.segment_outputs_size() > 0) {
    throw TwirpError("unimplemented",
                     "segmented (HLS) outputs are not supported: Parlor records to MP4 or WebM "
                     "files");
  }
  if (r.image_outputs_size() > 0) {
    throw TwirpError("unimplemented", "image outputs are not supported: Parlor records to files");
  }
  if (r.file_outputs_size() > 1) {
    throw TwirpError("invalid_argument", "one file output per egress is supported");
  }
  if (r.file_outputs_size() == 1) return r.file_outputs(0);
  if (r.has_file()) return r.file();
  throw TwirpError("invalid_argument", "a file output is required (file_outputs)");
}

// The composite's container and extension: MP4 by default; WebM when the filepath asks for it.
egress::Container composite_container(const livekit::EncodedFileOutput& out, std::string* ext) {
  if (out.file_type() == livekit::OGG || out.file_type() == livekit::MP3) {
    throw TwirpError("unimplemented", "composite files are MP4 (or WebM); " +
                                          livekit::EncodedFileType_Name(out.file_type()) +
                                          " is not supported");
  }
  const std::string& p = out.filepath();
  bool webm = out.file_type() == livekit::DEFAULT_FILETYPE && p.size() >= 5 &&
              p.compare(p.size() - 5, 5, ".webm") == 0;
  *ext = webm ? ".webm" : ".mp4";
  return webm ? egress::Container::kWebm : egress::Container::kMp4;
}

template <typename Request>
void apply_encoding(const Request& r, egress::CompositeOptions& o) {
  if (r.has_advanced()) {
    const auto& a = r.advanced();
    if (a.width() < 0 || a.height() < 0 || a.framerate() < 0 || a.width() > kMaxWidth ||
        a.height() > kMaxHeight || a.framerate() > kMaxFramerate) {
      throw TwirpError("invalid_argument",
                       "advanced encoding: width, height and framerate must be within 3840x2160 "
                       "at 60 fps");
    }
    if (a.width()) o.width = a.width();
    if (a.height()) o.height = a.height();
    if (a.framerate()) o.framerate = a.framerate();
    return;
  }
  if (!r.has_preset()) return;
  switch (r.preset()) {
    case livekit::H264_720P_30: o.width = 1280, o.height = 720, o.framerate = 30; break;
    case livekit::H264_720P_60: o.width = 1280, o.height = 720, o.framerate = 60; break;
    case livekit::H264_1080P_30: o.width = 1920, o.height = 1080, o.framerate = 30; break;
    case livekit::H264_1080P_60: o.width = 1920, o.height = 1080, o.framerate = 60; break;
    case livekit::PORTRAIT_H264_720P_30: o.width = 720, o.height = 1280, o.framerate = 30; break;
    case livekit::PORTRAIT_H264_720P_60: o.width = 720, o.height = 1280, o.framerate = 60; break;
    case livekit::PORTRAIT_H264_1080P_30: o.width = 1080, o.height = 1920, o.framerate = 30; break;
    case livekit::PORTRAIT_H264_1080P_60: o.width = 1080, o.height = 1920, o.framerate = 60; break;
    default: break;
  }
}

std::string track_extension(rtc::Codec codec) {
  switch (codec) {
    case rtc::Codec::kVp8: return ".webm";
    case rtc::Codec::kH264: return ".mp4";
    case rtc::Codec::kOpus: return ".ogg";
    default: break;
  }
  throw TwirpError("unimplemented", "tracks in this codec cannot be recorded");
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

EgressService::EgressService(const config::MediaConfig& config, RoomManager& rooms,
                             WebhookNotifier& webhooks, spdlog::logger& log)
    : config_(config),
      rooms_(rooms),
      webhooks_(webhooks),
      log_(log),
      root_(recordings_root(config.egress.recordings_dir)),
      registry_(config.egress.max_active, config.egress.max_finished,
                [this](const char* event, const livekit::EgressInfo& info) {
                  livekit::WebhookEvent e;
                  e.set_event(event);
                  e.mutable_room()->set_sid(info.room_id());
                  e.mutable_room()->set_name(info.room_name());
                  *e.mutable_egress_info() = info;
                  webhooks_.notify(std::move(e));
                }),
      jobs_(kJobThreads, config.egress.max_active * kJobsPerEgress) {}

EgressService::~EgressService() { stop(std::chrono::seconds(5)); }

void EgressService::set_live_rooms(LiveRooms* live) {
  std::lock_guard lock(live_mutex_);
  live_ = live;
}

http::Response EgressService::error_from_current_exception(const std::string& where) {
  return twirp_error_from_current_exception([&](const Caught& caught) {
    if (on_caught_) on_caught_(where, caught);
  });
}

void EgressService::handle(const http::Request& req, http::Respond respond) {
  serve_twirp(std::move(respond), [&](const http::RespondOnce& reply) { return dispatch(req, reply); },
              [&] { return error_from_current_exception(req.path); });
}

void EgressService::on_worker(const std::string& room, const http::Request& req,
                              const http::RespondOnce& reply, std::function<http::Response()> work) {
  post_worker(room, [this, reply, work = std::move(work), path = req.path] {
    http::Response res;
    try {
      res = work();
    } catch (...) {
      res = error_from_current_exception(path);
    }
    reply(std::move(res));
  });
}

// The room must exist, and its metadata must not forbid recording: the app marks privileged
// visits (attorney, clergy) with {"recording": "forbidden"}.
void EgressService::check_room(const std::string& room_name) const {
  if (room_name.empty()) throw TwirpError("invalid_argument", "room_name is required");
  auto room = rooms_.find(room_name);
  if (!room) throw TwirpError("not_found", "requested room does not exist");
  auto meta = nlohmann::json::parse(room->metadata(), nullptr, false);
  if (meta.is_object() && meta.contains("recording") && meta["recording"].is_string() &&
      meta["recording"].get<std::string>() == "forbidden") {
    throw TwirpError("failed_precondition", "recording is not allowed in this room");
  }
}

std::optional<http::Response> EgressService::dispatch(const http::Request& req,
                                                      const http::RespondOnce& reply) {
  if (req.method != "POST") return twirp_error_response("bad_route", "Twirp methods must be POSTed");
  std::string method = req.path.substr(std::min(req.path.size(), kPrefix.size()));
  auth::ClaimGrants claims;
  try {
    claims = verify_with_keys(config_, extract_token(req));
  } catch (const Unauthenticated& e) {
    return http::Response::text(401, e.what());  // before Twirp, as LiveKit's middleware does
  }
  const TwirpEncoding enc = twirp_encoding(req);
  require_record_grant(claims);
  if (!config_.egress.enabled) {
    throw TwirpError("unavailable", "recording is turned off on this server (egress.enabled)");
  }
  const bool protobuf = enc == TwirpEncoding::kProtobuf;

  if (method == "StartTrackEgress") {
    livekit::TrackEgressRequest r;
    decode_twirp(req, enc, r);
    if (r.output_case() == livekit::TrackEgressRequest::kWebsocketUrl) {
      throw TwirpError("unimplemented",
                       "websocket_url output is not supported: track egress writes a file");
    }
    if (!r.has_file()) throw TwirpError("invalid_argument", "a file output is required");
    if (r.track_id().empty()) throw TwirpError("invalid_argument", "track_id is required");
    upload_target(r.file(), config_.egress.s3);  // refuses unsupported storage now
    check_room(r.room_name());
    // Path errors answer now, before any worker work (the track's own values come later).
    // Placeholders stand in for the values: "{track_id}" alone is a good name.
    FileTemplateValues placeholders{"room", "RM_x", "TR_x", "camera", "video", "identity", 1};
    output_relative_path(r.file().filepath(), kTrackDefaultName, ".webm", placeholders);
    on_worker(r.room_name(), req, reply, [this, r, protobuf] { return start_track(r, protobuf); });
    return std::nullopt;
  }
  if (method == "StartRoomCompositeEgress" || method == "StartTrackCompositeEgress") {
    auto recording = std::make_shared<Recording>();
    livekit::EgressInfo info;
    std::vector<std::string> track_sids;
    const livekit::EncodedFileOutput* out = nullptr;
    std::string room_name;
    if (method == "StartRoomCompositeEgress") {
      auto* r = info.mutable_room_composite();
      decode_twirp(req, enc, *r);
      out = &composite_file_output(*r);
      if (r->audio_only() && r->video_only()) {
        throw TwirpError("invalid_argument", "audio_only and video_only exclude each other");
      }
      recording->kind = Kind::kRoomComposite;
      recording->composite.audio_only = r->audio_only();
      recording->composite.video_only = r->video_only();
      apply_encoding(*r, recording->composite);
      room_name = r->room_name();
    } else {
      auto* r = info.mutable_track_composite();
      decode_twirp(req, enc, *r);
      out = &composite_file_output(*r);
      if (r->audio_track_id().empty() && r->video_track_id().empty()) {
        throw TwirpError("invalid_argument", "audio_track_id or video_track_id is required");
      }
      recording->kind = Kind::kTrackComposite;
      recording->composite.audio_only = r->video_track_id().empty();
      recording->composite.video_only = r->audio_track_id().empty();
      apply_encoding(*r, recording->composite);
      for (const auto& sid : {r->audio_track_id(), r->video_track_id()}) {
        if (!sid.empty()) track_sids.push_back(sid);
      }
      room_name = r->room_name();
    }
    recording->upload = upload_target(*out, config_.egress.s3);
    check_room(room_name);
    std::string ext;
    recording->composite.container = composite_container(*out, &ext);
    FileTemplateValues values;
    values.room_name = room_name;
    values.room_id = rooms_.find(room_name)->sid();
    values.unix_seconds = unix_nanos() / 1'000'000'000;
    recording->relative = output_relative_path(out->filepath(), kCompositeDefaultName, ext, values);
    recording->final_path = root_ / recording->relative;
    recording->room_name = room_name;
    info.set_room_name(room_name);
    info.set_room_id(values.room_id);
    if (info.has_room_composite()) {
      for (auto& f : *info.mutable_room_composite()->mutable_file_outputs()) redact_upload(f);
      if (info.room_composite().has_file()) redact_upload(*info.mutable_room_composite()->mutable_file());
    } else {
      for (auto& f : *info.mutable_track_composite()->mutable_file_outputs()) redact_upload(f);
      if (info.track_composite().has_file()) redact_upload(*info.mutable_track_composite()->mutable_file());
    }
    on_worker(room_name, req, reply, [this, recording, info, track_sids, protobuf] {
      return start_composite(recording, info, track_sids, protobuf);
    });
    return std::nullopt;
  }
  if (method == "ListEgress") {
    livekit::ListEgressRequest r;
    decode_twirp(req, enc, r);
    livekit::ListEgressResponse out;
    for (auto& info : registry_.list(r.room_name(), r.egress_id(), r.active())) {
      *out.add_items() = std::move(info);
    }
    return encode_twirp(out, enc);
  }
  if (method == "StopEgress") {
    livekit::StopEgressRequest r;
    decode_twirp(req, enc, r);
    auto info = registry_.get(r.egress_id());
    if (!info) throw TwirpError("not_found", "egress does not exist");
    if (EgressRegistry::ended(info->status())) {
      throw TwirpError("failed_precondition", "egress " + r.egress_id() + " has already ended (" +
                                                  livekit::EgressStatus_Name(info->status()) + ")");
    }
    if (auto recording = find(r.egress_id())) begin_stop(recording, "stopped by StopEgress");
    return encode_twirp(registry_.get(r.egress_id()).value_or(*info), enc);
  }
  if (method == "UpdateLayout") {
    livekit::UpdateLayoutRequest r;
    decode_twirp(req, enc, r);
    return encode_twirp(registry_.update_layout(r.egress_id(), r.layout()), enc);
  }
  if (method == "UpdateStream") {
    throw TwirpError("unimplemented", "UpdateStream: stream outputs are not supported (Parlor records to files)");
  }
  if (method == "StartWebEgress") {
    throw TwirpError("unimplemented", "StartWebEgress: recording a web page is not supported (Parlor records without a browser)");
  }
  if (method == "StartParticipantEgress" || method == "StartEgress") {
    throw TwirpError("unimplemented", method + " is not supported: use StartRoomCompositeEgress, "
                                               "StartTrackCompositeEgress or StartTrackEgress");
  }
  throw TwirpError("bad_route", "no such method: livekit.Egress/" + method);
}

// Worker thread.
http::Response EgressService::start_track(const livekit::TrackEgressRequest& r, bool protobuf) {
  signal::Room* room = nullptr;
  {
    std::lock_guard lock(live_mutex_);
    if (live_) room = live_->find_room(r.room_name());
  }
  signal::Participant* publisher = nullptr;
  signal::PublishedTrack* track = nullptr;
  if (room) {
    for (auto [p, t] : room->published_tracks()) {
      if (t->info.sid() == r.track_id()) publisher = p, track = t;
    }
  }
  if (!track) {
    throw TwirpError("not_found", "track " + r.track_id() + " is not published in room " + r.room_name());
  }
  auto format = signal::RecordingTaps::format_of(*track);
  if (!format) throw TwirpError("failed_precondition", "track " + r.track_id() + " has no media yet");
  FileTemplateValues values;
  values.room_name = r.room_name();
  values.room_id = room->info().sid();
  values.track_id = r.track_id();
  values.track_source = lower(livekit::TrackSource_Name(track->info.source()));
  values.track_type = lower(livekit::TrackType_Name(track->info.type()));
  values.publisher_identity = publisher->identity();
  values.unix_seconds = unix_nanos() / 1'000'000'000;
  auto recording = std::make_shared<Recording>();
  recording->kind = Kind::kTrack;
  recording->room_name = r.room_name();
  recording->relative =
      output_relative_path(r.file().filepath(), kTrackDefaultName, track_extension(format->codec), values);
  recording->final_path = root_ / recording->relative;
  recording->upload = upload_target(r.file(), config_.egress.s3);
  livekit::EgressInfo info;
  info.set_room_name(r.room_name());
  info.set_room_id(values.room_id);
  *info.mutable_track() = r;
  redact_upload(*info.mutable_track()->mutable_file());
  info = registry_.create(std::move(info));
  recording->egress_id = info.egress_id();
  {
    std::lock_guard lock(mutex_);
    recordings_[info.egress_id()] = recording;
  }
  log_.info("egress {} started: track {} of room {} → {}", info.egress_id(), r.track_id(),
            r.room_name(), recording->final_path.string());
  begin_track(recording, *publisher, *track);
  return encode_twirp(info, protobuf ? TwirpEncoding::kProtobuf : TwirpEncoding::kJson);
}

// Worker thread. `track_sids` empty: every audio and video track of the room, now and later.
http::Response EgressService::start_composite(std::shared_ptr<Recording> recording,
                                              livekit::EgressInfo info,
                                              std::vector<std::string> track_sids, bool protobuf) {
  signal::Room* room = nullptr;
  {
    std::lock_guard lock(live_mutex_);
    if (live_) room = live_->find_room(recording->room_name);
  }
  std::vector<std::pair<signal::Participant*, signal::PublishedTrack*>> tracks;
  if (room) tracks = room->published_tracks();
  if (!track_sids.empty()) {
    std::vector<std::pair<signal::Participant*, signal::PublishedTrack*>> chosen;
    for (const auto& sid : track_sids) {
      auto it = std::find_if(tracks.begin(), tracks.end(),
                             [&](const auto& pt) { return pt.second->info.sid() == sid; });
      if (it == tracks.end()) {
        throw TwirpError("not_found", "track " + sid + " is not published in room " + recording->room_name);
      }
      bool video = it->second->info.type() == livekit::VIDEO;
      const auto& r = info.track_composite();
      if ((sid == r.audio_track_id() && video) || (sid == r.video_track_id() && !video)) {
        throw TwirpError("invalid_argument", "track " + sid + " is " + (video ? "video" : "audio") +
                                                 ", not what the request names it");
      }
      chosen.push_back(*it);
    }
    tracks = std::move(chosen);
  }
  info = registry_.create(std::move(info));
  recording->egress_id = info.egress_id();
  recording->work_dir = root_ / ".egress-work" / info.egress_id();
  {
    std::lock_guard lock(mutex_);
    recordings_[info.egress_id()] = recording;
  }
  log_.info("egress {} started: {} composite of room {} → {}", info.egress_id(),
            recording->kind == Kind::kRoomComposite ? "room" : "track", recording->room_name,
            recording->final_path.string());
  for (auto [p, t] : tracks) {
    bool video = t->info.type() == livekit::VIDEO;
    if ((video && recording->composite.audio_only) || (!video && recording->composite.video_only)) continue;
    begin_track(recording, *p, *t);
  }
  return encode_twirp(info, protobuf ? TwirpEncoding::kProtobuf : TwirpEncoding::kJson);
}

}  // namespace parlor::service
