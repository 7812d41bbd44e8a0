#include "app/api/app_api.hpp"

#include <iostream>

#include "app/api/handlers.hpp"
#include "app/api/visit_recordings.hpp"
#include "app/auth/passwords.hpp"
#include "common/boundary.hpp"
#include "common/errors.hpp"

namespace parlor::app {

AppApi::AppApi(AppSettings settings, Database& db, VideoProvider& video)
    : ctx_(std::move(settings), db, video),
      dummy_hash_(hash_password(random_token())),
      workers_(std::make_unique<common::WorkerPool>(ctx_.settings.worker_threads,
                                                    ctx_.settings.worker_queue)) {}

AppApi::~AppApi() {
  stop();
}

void AppApi::stop() {
  workers_->stop();
}

void AppApi::register_routes(http::Router& router) {
  auto handler = [this](const http::Request& req, http::Respond respond) {
    auto job = [this, req, respond] {
      auto parts = split_path(req.path);
      if (parts.size() == 3 && parts[0] == "api" && is_login({parts[1], parts[2]})) {
        return respond(login(req));
      }
      std::lock_guard lock(mutex_);
      respond(dispatch(req));
    };
    if (!workers_->try_post(std::move(job))) {
      auto busy = error_reply(503, "unavailable", "the server is busy; try again shortly");
      busy.with_header("Retry-After", "1");
      respond(std::move(busy));
    }
  };
  router.add_async("*", "/api/", true, handler);
  router.add_async("*", "/calls/join", false, handler);
  router.add_async("*", "/webhooks/livekit", false, handler);
  router.add("GET", "/healthz",
             [](const http::Request&) { return http::Response::json(200, R"({"ok":true})"); });
}

long long AppApi::create_user(const std::string& email, const std::string& name,
                              const std::string& role, const std::string& password,
                              long long resident_id, long long visitor_id) {
  std::lock_guard lock(mutex_);
  return ctx_.create_user(email, name, role, password, resident_id, visitor_id);
}

long long AppApi::create_resident(const std::string& name, const std::string& unit) {
  std::lock_guard lock(mutex_);
  return ctx_.create_resident(name, unit);
}

long long AppApi::create_visitor(const std::string& name, const std::string& email) {
  std::lock_guard lock(mutex_);
  return ctx_.create_visitor(name, email);
}

void AppApi::set_approval(long long visitor_id, long long resident_id, const std::string& status,
                          const std::string& actor) {
  std::lock_guard lock(mutex_);
  ctx_.set_approval(visitor_id, resident_id, status, actor);
}

long long AppApi::create_visit(long long resident_id, const std::vector<long long>& visitor_ids,
                               int64_t start, int duration_minutes, bool privileged,
                               const std::string& status, long long created_by) {
  std::lock_guard lock(mutex_);
  return ctx_.create_visit(resident_id, visitor_ids, start, duration_minutes, privileged, status,
                           created_by);
}

void AppApi::run_jobs(int64_t now) {
  std::vector<PendingHash> pending;
  {
    std::lock_guard lock(mutex_);
    run_visit_jobs(ctx_, now);
    if (!hashing_) pending = pending_hashes(ctx_, kHashesPerRun);
  }
  if (pending.empty()) return;
  // Hashing a recording reads the whole file: on a worker, outside the lock, so neither the
  // jobs timer's thread nor other requests wait for the disk. One batch at a time.
  hashing_ = true;
  bool posted = workers_->try_post([this, pending = std::move(pending), now] {
    auto caught = guarded([&] {
      for (const auto& p : pending) {
        std::optional<FileDigest> digest;
        if (auto file = resolve_recording_file(ctx_.settings.recordings_dir, p.location)) {
          digest = hash_file(*file);
        }
        std::lock_guard lock(mutex_);
        store_hash(ctx_, p, digest, now);
      }
    });
    if (caught) std::cerr << "parlor app: hashing recordings: " << caught->message << "\n";
    hashing_ = false;
  });
  if (!posted) hashing_ = false;  // busy: the next run tries again
}

// The one error boundary of the API: every handler's exception becomes the documented error
// shape here.
template <typename F>
http::Response AppApi::answer(F&& fn) {
  try {
    return fn();
  } catch (const ApiError& e) {
    return error_reply(e.status, e.code, e.what());
  } catch (const BadInput& e) {
    return error_reply(400, "bad_request", e.what());
  } catch (const NotSupported& e) {
    return error_reply(501, "not_implemented", e.what());
  } catch (const InternalError& e) {
    return error_reply(502, "internal", std::string("the video service failed: ") + e.what());
  } catch (const soci::soci_error& e) {
    return error_reply(500, "internal", "database error");
  } catch (const std::exception& e) {
    return error_reply(500, "internal", "internal error");
  }
}

// Sign-in: look up and throttle under the lock, verify outside it (Argon2 takes tens of
// milliseconds and must not hold up other requests), then create the session under the lock.
http::Response AppApi::login(const http::Request& req) {
  return answer([&]() -> http::Response {
    std::variant<LoginAttempt, http::Response> step;
    {
      std::lock_guard lock(mutex_);
      step = begin_login(ctx_, req);
    }
    if (auto* refusal = std::get_if<http::Response>(&step)) return std::move(*refusal);
    auto& attempt = std::get<LoginAttempt>(step);
    bool ok = verify_password(attempt.found ? attempt.hash : dummy_hash_, attempt.password);
    std::lock_guard lock(mutex_);
    return finish_login(ctx_, req, attempt, ok);
  });
}

http::Response AppApi::dispatch(const http::Request& req) {
  return answer([&]() -> http::Response {
    auto parts = split_path(req.path);
    if (!parts.empty() && parts[0] == "api") parts.erase(parts.begin());

    // Before a session: signed webhooks, the public config, sign-in.
    if (auto r = handle_webhook(ctx_, req, parts)) return std::move(*r);
    if (auto r = handle_public(ctx_, req, parts)) return std::move(*r);

    auto who = authenticate(ctx_, req);
    if (auto* refusal = std::get_if<http::Response>(&who)) return std::move(*refusal);
    const Call call{req, parts, std::get<User>(who)};
    for (auto* handler :
         {handle_session, handle_rules, handle_residents, handle_visitors, handle_approvals,
          handle_visits, handle_calls, handle_recordings, handle_audit}) {
      if (auto r = handler(ctx_, call)) return std::move(*r);
    }
    return error_reply(404, "not_found", "no such API endpoint: " + req.method + " " + req.path);
  });
}

}  // namespace parlor::app
