#pragma once
// The visitation app's HTTP API (docs/api.md): JSON in and out, one error shape
// {"error":{"code","message"}}, session cookie + CSRF header, a role check on every endpoint.
// AppApi owns the routing and the one error boundary; each resource's handlers live in their
// own file (handlers.hpp). Requests are served one at a time under a lock, because the
// Database (a single SOCI session) is not thread-safe.
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "app/api/api_context.hpp"
#include "app/store/database.hpp"
#include "app/video/video_provider.hpp"
#include "common/http/http_server.hpp"

namespace parlor::app {

class AppApi {
 public:
  AppApi(AppSettings settings, Database& db, VideoProvider& video);

  // Registers every route on `router`.
  void register_routes(http::Router& router);

  // Periodic work (call about every 5 s): 2-minute warnings, ending overdue visits, missed visits.
  void run_jobs(int64_t now);

  // Used by `parlor dev` and `parlor admin create-user`.
  long long create_user(const std::string& email, const std::string& name, const std::string& role,
                        const std::string& password, long long resident_id = 0,
                        long long visitor_id = 0);
  long long create_resident(const std::string& name, const std::string& unit);
  long long create_visitor(const std::string& name, const std::string& email);
  void set_approval(long long visitor_id, long long resident_id, const std::string& status,
                    const std::string& actor);
  long long create_visit(long long resident_id, const std::vector<long long>& visitor_ids,
                         int64_t start, int duration_minutes, bool privileged,
                         const std::string& status, long long created_by);

 private:
  http::Response dispatch(const http::Request& req);

  ApiContext ctx_;
  std::mutex mutex_;  // the HTTP server may use several threads; the store is single-session
};

}  // namespace parlor::app
