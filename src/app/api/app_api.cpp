#include "app/api/app_api.hpp"

#include "app/api/handlers.hpp"
#include "common/errors.hpp"

namespace parlor::app {

AppApi::AppApi(AppSettings settings, Database& db, VideoProvider& video)
    : ctx_(std::move(settings), db, video) {}

void AppApi::register_routes(http::Router& router) {
  auto handler = [this](const http::Request& req) {
    std::lock_guard lock(mutex_);
    return dispatch(req);
  };
  router.add_prefix("*", "/api/", handler);
  router.add("*", "/calls/join", handler);
  router.add("*", "/webhooks/livekit", handler);
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
  std::lock_guard lock(mutex_);
  run_visit_jobs(ctx_, now);
}

// The one error boundary of the API: every handler's exception becomes the documented error
// shape here.
http::Response AppApi::dispatch(const http::Request& req) {
  try {
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

}  // namespace parlor::app
