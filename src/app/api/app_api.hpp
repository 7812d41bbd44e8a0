#pragma once
// The visitation app's HTTP API (docs/api.md): JSON in and out, one error shape
// {"error":{"code","message"}}, session cookie + CSRF header, a role check on every endpoint.
// AppApi owns the routing and the one error boundary; each resource's handlers live in their
// own file (handlers.hpp). Requests are served one at a time under a lock, because the
// Database (a single SOCI session) is not thread-safe. They run on a small worker pool, never
// on the HTTP I/O thread; a sign-in's Argon2 check runs there outside the lock, and an unknown
// account is checked against a dummy hash so both take the same time.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/api/api_context.hpp"
#include "app/store/database.hpp"
#include "app/video/video_provider.hpp"
#include "common/http/http_server.hpp"
#include "common/worker_pool.hpp"

namespace parlor::app {

class AppApi {
 public:
  AppApi(AppSettings settings, Database& db, VideoProvider& video);
  ~AppApi();

  // Stops the worker pool (queued requests are dropped unanswered). Call before the io_context
  // that runs the HTTP server is destroyed.
  void stop();

  // Registers every route on `router`.
  void register_routes(http::Router& router);

  // Periodic work (call about every 5 s): 2-minute warnings, ending overdue visits, missed
  // visits, recordings (start/stop retries, retention; new files hashed on a worker).
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
  http::Response login(const http::Request& req);  // on a worker; locks around the hash check
  // Runs the API's one error boundary around `fn`.
  template <typename F>
  http::Response answer(F&& fn);

  ApiContext ctx_;
  std::mutex mutex_;        // the HTTP server may use several threads; the store is single-session
  std::string dummy_hash_;  // verified for unknown accounts
  // Recording files hashed per jobs run (visit_recordings.hpp), and whether a batch is running.
  static constexpr size_t kHashesPerRun = 8;
  std::atomic<bool> hashing_{false};
  std::unique_ptr<common::WorkerPool> workers_;
};

}  // namespace parlor::app
