#pragma once
// The API's resource handlers (docs/api.md), one file each. A handler answers the requests of its
// resource and returns nullopt for any path or method it does not serve, so AppApi::dispatch can
// try the next one (and finally answer 404). Handlers throw ApiError (or parlor::BadInput,
// parlor::InternalError, parlor::NotSupported) and let dispatch turn it into the error shape.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "app/api/api_context.hpp"
#include "common/http/http_types.hpp"

namespace parlor::app {

using MaybeResponse = std::optional<http::Response>;

// Before a session exists (auth_handlers.cpp, webhook_handlers.cpp).
MaybeResponse handle_webhook(ApiContext& ctx, const http::Request& req,
                             const std::vector<std::string>& parts);
MaybeResponse handle_public(ApiContext& ctx, const http::Request& req,
                            const std::vector<std::string>& parts);  // /config
// POST /auth/login, in two steps around the password check (auth_handlers.cpp).
struct LoginAttempt {
  std::string email, password;
  std::string hash;    // the account's Argon2 hash; empty when there is no such account
  bool found = false;  // an unknown account is still verified (against a dummy hash)
  User user;
};
bool is_login(const std::vector<std::string>& parts);
// Validates and throttles (429 with Retry-After) and looks the account up.
std::variant<LoginAttempt, http::Response> begin_login(ApiContext& ctx, const http::Request& req);
// After the password check: the session and its cookie, or 401.
http::Response finish_login(ApiContext& ctx, const http::Request& req, const LoginAttempt& a,
                            bool verified);
// Whether the session cookie gets Secure (AppSettings::secure_cookies, trusted X-Forwarded-Proto).
bool secure_request(const AppSettings& settings, const http::Request& req);
// The session's user, or an error reply (401, or 403 for a missing CSRF token).
std::variant<User, http::Response> authenticate(ApiContext& ctx, const http::Request& req);

// Signed in.
MaybeResponse handle_session(ApiContext& ctx, const Call& call);     // /auth/me, /auth/logout
MaybeResponse handle_rules(ApiContext& ctx, const Call& call);       // /rules
MaybeResponse handle_audit(ApiContext& ctx, const Call& call);       // /audit
MaybeResponse handle_residents(ApiContext& ctx, const Call& call);   // /residents
MaybeResponse handle_visitors(ApiContext& ctx, const Call& call);    // /visitors
MaybeResponse handle_approvals(ApiContext& ctx, const Call& call);   // /approvals...
MaybeResponse handle_visits(ApiContext& ctx, const Call& call);      // /visits...
MaybeResponse handle_calls(ApiContext& ctx, const Call& call);       // /calls/join, /live
MaybeResponse handle_recordings(ApiContext& ctx, const Call& call);  // /recordings...
// /visits/{id}/moderation/{action}, reached through handle_visits once the visit is loaded.
MaybeResponse handle_moderation(ApiContext& ctx, const Call& call, VisitRow& visit,
                                const std::string& action);

// Periodic visit jobs (visit_jobs.cpp): 2-minute warnings, time limits, missed visits,
// recordings. False when another instance holds the jobs lock (this tick is skipped).
bool run_visit_jobs(ApiContext& ctx, int64_t now);

}  // namespace parlor::app
