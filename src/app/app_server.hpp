#pragma once
// The `parlor app` process object: the visitation API and the web UI on one HTTP port, its
// store, its video provider and its periodic jobs (visit warnings and time limits).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "app/api/app_api.hpp"
#include "app/store/database.hpp"
#include "app/video/video_provider.hpp"
#include "app/web/web_assets.hpp"
#include "common/config/media_config.hpp"
#include "common/http/http_server.hpp"

namespace parlor::app {

struct AppConfig {
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;
  std::string database_url;  // empty = SQLite file <data_dir>/parlor.db
  std::string data_dir = "data";
  std::string recordings_dir;  // empty = <data_dir>/recordings
  // The web UI: files from this directory when set (--web-dir, for UI development), else the
  // table embedded into the binary at build time (empty when it was built before `make web`).
  std::string web_dir;
  std::span<const WebAsset> embedded_web;
  VideoSettings video;
  AppSettings settings;
  std::chrono::milliseconds jobs_interval{5000};
  size_t body_limit = 256 * 1024;
  bool dev = false;  // --dev: short development secrets (LIVEKIT_API_SECRET=secret) are allowed
  // HTTPS on the app's port (--tls-cert/--tls-key, PARLOR_TLS_CERT/PARLOR_TLS_KEY); the same
  // keys as the media server's `tls:` section.
  config::TlsConfig tls;
};

// Secrets shorter than this are refused outside --dev.
constexpr size_t kMinApiSecretLength = 32;

// Without PARLOR_E2EE_SECRET, a SQLite app (and `parlor dev`) keeps a generated one in <data_dir>/e2ee.key (mode
// 0600), made on first start and reused after: outside the database, like the other keys.
inline constexpr const char* kE2eeKeyFile = "e2ee.key";
std::string load_or_create_e2ee_secret(const std::string& data_dir);

// Reads VIDEO_PROVIDER, LIVEKIT_URL/API_KEY/API_SECRET, TWILIO_ACCOUNT_SID/API_KEY/API_SECRET,
// DATABASE_URL, PARLOR_FACILITY_NAME, PARLOR_FACILITY_TIMEZONE, PARLOR_UTC_OFFSET_MINUTES,
// PARLOR_RECORDINGS_DIR, PARLOR_SECURE_COOKIES, PARLOR_TRUST_PROXY, then flags, then checks the
// result (validate_app_config). Throws parlor::BadInput.
AppConfig load_app_config(int argc, char** argv, const std::map<std::string, std::string>& env,
                          bool* help);
extern const char* const kAppUsage;
// Refuses unusable settings with a one-line message naming the setting: outside --dev, a
// LiveKit API secret shorter than kMinApiSecretLength.
void validate_app_config(const AppConfig& config);

// The file under `web_dir` that a GET of `request_path` serves: nullopt when it does not exist
// or resolves (symlinks included) to anywhere outside web_dir, compared by whole path
// components, so /srv/web-evil is not inside /srv/web.
std::optional<std::filesystem::path> web_file(const std::string& web_dir,
                                              const std::string& request_path);

class AppServer {
 public:
  explicit AppServer(AppConfig config);
  ~AppServer();
  void start();
  void stop();
  uint16_t port() const { return http_ ? http_->port() : 0; }
  // TLS on the app's port (after start()); nullptr for plain HTTP.
  const http::TlsContext* tls() const { return tls_.get(); }
  const AppConfig& config() const { return config_; }
  const WebAssets& web_assets() const { return web_assets_; }
  // What an operator should see at startup, one line each: the listener and what it serves,
  // where the UI, database and recordings come from, and every optional part that is missing.
  // Call after start().
  std::vector<std::string> startup_lines() const;
  AppApi& api() { return *api_; }
  Database& db() { return *db_; }

  // Demo data for `parlor dev` (only into an empty database). Returns the logins as text.
  std::string seed_demo();

 private:
  void schedule_jobs();
  http::Response serve_web(const http::Request& req) const;

  AppConfig config_;
  WebAssets web_assets_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<VideoProvider> video_;
  std::unique_ptr<AppApi> api_;
  boost::asio::io_context io_;
  http::Router router_;
  std::shared_ptr<http::TlsContext> tls_;
  std::unique_ptr<http::Server> http_;
  boost::asio::steady_timer jobs_timer_;
  std::thread thread_;
  bool stopped_ = false;
  bool e2ee_from_file_ = false;  // the E2EE secret came from <data_dir>/e2ee.key
};

}  // namespace parlor::app
