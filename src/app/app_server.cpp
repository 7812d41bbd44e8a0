#include "app/app_server.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/domain/e2ee.hpp"
#include "app/web/content_type.hpp"
#include "common/boundary.hpp"
#include "common/errors.hpp"

namespace parlor::app {

namespace fs = std::filesystem;

const char* const kAppUsage = R"(usage: parlor app [options]

Runs the visitation backend and web UI. Settings come from the environment (VIDEO_PROVIDER,
LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, TWILIO_ACCOUNT_SID, TWILIO_API_KEY,
TWILIO_API_SECRET, DATABASE_URL, PARLOR_FACILITY_NAME, PARLOR_FACILITY_TIMEZONE,
PARLOR_UTC_OFFSET_MINUTES, PARLOR_RECORDINGS_DIR, PARLOR_SECURE_COOKIES, PARLOR_TRUST_PROXY,
PARLOR_TOKEN_GRACE_SECONDS, PARLOR_RECONCILE_INTERVAL_MS, PARLOR_ROOM_DEPARTURE_TIMEOUT,
PARLOR_MONITOR_SLOTS, PARLOR_PUBLIC_LIVEKIT_URL, PARLOR_TLS_CERT, PARLOR_TLS_KEY,
PARLOR_HSTS_MAX_AGE, LIVEKIT_CA_FILE, PARLOR_E2EE_SECRET; see .env.example), then these flags:
  --port N              HTTP port (default 8080; 0 = pick a free one)
  --bind ADDR           listen address (default 127.0.0.1)
  --data-dir DIR        where the SQLite database lives (default ./data)
  --recordings-dir DIR  recording files served by /api/recordings/{id}/download
                        (default DATA-DIR/recordings)
  --database-url URL    postgresql://... or a SQLite path (overrides DATABASE_URL)
  --web-dir DIR         serve the web UI from DIR (e.g. web/dist while developing it)
                        instead of the copy embedded into this binary
  --livekit-url URL     media server (overrides LIVEKIT_URL)
  --jobs-interval-ms N  how often time limits are checked (default 5000)
  --token-grace-seconds N  join tokens stop working N s after the visit's end (default 300)
  --reconcile-interval-ms N  how often rooms on the media server are checked against the
                        visits; rooms that should not exist are closed (default 30000)
  --secure-cookies      always mark the session cookie Secure (PARLOR_SECURE_COOKIES=1)
  --trust-proxy         believe X-Forwarded-Proto from a reverse proxy: https there makes the
                        session cookie Secure (PARLOR_TRUST_PROXY=1); only behind a proxy
                        that sets the header itself
  --login-attempts-per-minute N          sign-in attempts per account (default 10)
  --login-attempts-overall-per-minute N  sign-in attempts over all accounts (default 300)
  --workers N           threads for API requests and password hashing (default 2)
  --tls-cert FILE       serve HTTPS with this PEM certificate chain (PARLOR_TLS_CERT);
                        reloaded when the file changes; responses carry HSTS and the
                        session cookie is Secure
  --tls-key FILE        the certificate's PEM private key (PARLOR_TLS_KEY)
  --hsts-max-age N      Strict-Transport-Security max-age in seconds over TLS (default
                        31536000; 0 = no header) (PARLOR_HSTS_MAX_AGE)
  --livekit-ca-file FILE  PEM CA bundle (or the media server's own certificate) trusted for a
                        wss:// LIVEKIT_URL, instead of the system's store (LIVEKIT_CA_FILE)
  --dev                 development: allow short API secrets (LIVEKIT_API_SECRET=secret)
)";

AppConfig load_app_config(int argc, char** argv, const std::map<std::string, std::string>& env,
                          bool* help) {
  AppConfig c;
  auto get = [&](const char* k, std::string& out) {
    if (auto it = env.find(k); it != env.end() && !it->second.empty()) out = it->second;
  };
  get("VIDEO_PROVIDER", c.video.provider);
  get("LIVEKIT_URL", c.video.url);
  get("LIVEKIT_API_KEY", c.video.api_key);
  get("LIVEKIT_API_SECRET", c.video.api_secret);
  get("LIVEKIT_CA_FILE", c.video.ca_file);
  get("PARLOR_TLS_CERT", c.tls.cert_file);
  get("PARLOR_TLS_KEY", c.tls.key_file);
  get("TWILIO_ACCOUNT_SID", c.video.twilio_account_sid);
  get("TWILIO_API_KEY", c.video.twilio_api_key);
  get("TWILIO_API_SECRET", c.video.twilio_api_secret);
  get("PARLOR_RECORDINGS_DIR", c.recordings_dir);
  get("DATABASE_URL", c.database_url);
  get("PARLOR_E2EE_SECRET", c.settings.e2ee_secret);
  // What browsers connect to when it differs from how the app reaches the media tier (an
  // in-cluster service name behind a public address); empty = LIVEKIT_URL.
  get("PARLOR_PUBLIC_LIVEKIT_URL", c.settings.livekit_url);
  get("PARLOR_FACILITY_NAME", c.settings.facility_name);
  get("PARLOR_FACILITY_TIMEZONE", c.settings.time_zone);
  std::string offset;
  get("PARLOR_UTC_OFFSET_MINUTES", offset);
  auto number = [](const std::string& v, const std::string& what, long lo, long hi) {
    try {
      size_t used = 0;
      long n = std::stol(v, &used);
      if (used == v.size() && n >= lo && n <= hi) return n;
    } catch (const std::exception&) {
    }
    throw BadInput(what + ": expected a number from " + std::to_string(lo) + " to " +
                   std::to_string(hi) + ", got '" + v + "'");
  };
  auto setting = [&](const char* k, auto apply) {
    std::string v;
    get(k, v);
    if (!v.empty()) apply(v);
  };
  setting("PARLOR_TOKEN_GRACE_SECONDS", [&](const std::string& v) {
    c.settings.token_grace = std::chrono::seconds(number(v, "PARLOR_TOKEN_GRACE_SECONDS", 0, 3600));
  });
  setting("PARLOR_RECONCILE_INTERVAL_MS", [&](const std::string& v) {
    c.settings.reconcile_interval =
        std::chrono::milliseconds(number(v, "PARLOR_RECONCILE_INTERVAL_MS", 50, 3600000));
  });
  setting("PARLOR_ROOM_DEPARTURE_TIMEOUT", [&](const std::string& v) {
    c.settings.room_departure_timeout =
        static_cast<uint32_t>(number(v, "PARLOR_ROOM_DEPARTURE_TIMEOUT", 1, 3600));
  });
  setting("PARLOR_HSTS_MAX_AGE", [&](const std::string& v) {
    c.tls.hsts_max_age = static_cast<uint32_t>(number(v, "PARLOR_HSTS_MAX_AGE", 0, 630720000));
  });
  setting("PARLOR_MONITOR_SLOTS", [&](const std::string& v) {
    c.settings.monitor_slots = static_cast<uint32_t>(number(v, "PARLOR_MONITOR_SLOTS", 0, 100));
  });
  auto flag = [&](const char* k) {
    std::string v;
    get(k, v);
    if (v.empty() || v == "0" || v == "false") return false;
    if (v == "1" || v == "true") return true;
    throw BadInput(std::string(k) + ": expected 1/true or 0/false, got '" + v + "'");
  };
  c.settings.secure_cookies = flag("PARLOR_SECURE_COOKIES");
  c.settings.trust_proxy = flag("PARLOR_TRUST_PROXY");
  if (!offset.empty()) c.settings.utc_offset_minutes = static_cast<int>(number(offset, "PARLOR_UTC_OFFSET_MINUTES", -840, 840));
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw BadInput(a + ": missing value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      *help = true;
    } else if (a == "--port") {
      c.port = static_cast<uint16_t>(number(value(), a, 0, 65535));
    } else if (a == "--bind") {
      c.bind = value();
    } else if (a == "--data-dir") {
      c.data_dir = value();
    } else if (a == "--recordings-dir") {
      c.recordings_dir = value();
    } else if (a == "--database-url") {
      c.database_url = value();
    } else if (a == "--web-dir") {
      c.web_dir = value();
    } else if (a == "--livekit-url") {
      c.video.url = value();
    } else if (a == "--jobs-interval-ms") {
      c.jobs_interval = std::chrono::milliseconds(number(value(), a, 50, 3600000));
    } else if (a == "--token-grace-seconds") {
      c.settings.token_grace = std::chrono::seconds(number(value(), a, 0, 3600));
    } else if (a == "--reconcile-interval-ms") {
      c.settings.reconcile_interval = std::chrono::milliseconds(number(value(), a, 50, 3600000));
    } else if (a == "--secure-cookies") {
      c.settings.secure_cookies = true;
    } else if (a == "--trust-proxy") {
      c.settings.trust_proxy = true;
    } else if (a == "--login-attempts-per-minute") {
      c.settings.login_throttle.per_account_per_minute =
          static_cast<int>(number(value(), a, 1, 100000));
    } else if (a == "--login-attempts-overall-per-minute") {
      c.settings.login_throttle.overall_per_minute =
          static_cast<int>(number(value(), a, 1, 1000000));
    } else if (a == "--workers") {
      c.settings.worker_threads = static_cast<size_t>(number(value(), a, 1, 64));
    } else if (a == "--tls-cert") {
      c.tls.cert_file = value();
    } else if (a == "--tls-key") {
      c.tls.key_file = value();
    } else if (a == "--hsts-max-age") {
      c.tls.hsts_max_age = static_cast<uint32_t>(number(value(), a, 0, 630720000));
    } else if (a == "--livekit-ca-file") {
      c.video.ca_file = value();
    } else if (a == "--dev") {
      c.dev = true;
    } else {
      throw BadInput("unknown option '" + a + "' (see parlor app --help)");
    }
  }
  if (!*help) validate_app_config(c);
  return c;
}

void validate_app_config(const AppConfig& c) {
  config::validate_tls(c.tls);
  bool livekit = c.video.provider.empty() || c.video.provider == "livekit";
  if (livekit && !c.dev && c.video.api_secret.size() < kMinApiSecretLength) {
    throw BadInput("LIVEKIT_API_SECRET must be at least " + std::to_string(kMinApiSecretLength) +
                   " characters (generate one with `openssl rand -base64 32`; --dev allows short "
                   "development secrets)");
  }
  const auto& e2ee = c.settings.e2ee_secret;
  if (!e2ee.empty() && !c.dev && e2ee.size() < kMinE2eeSecretLength) {
    throw BadInput("PARLOR_E2EE_SECRET must be at least " + std::to_string(kMinE2eeSecretLength) +
                   " characters (generate one with `openssl rand -base64 32`)");
  }
}

std::string load_or_create_e2ee_secret(const std::string& data_dir) {
  fs::path file = fs::path(data_dir) / kE2eeKeyFile;
  {
    std::ifstream in(file);
    std::string secret;
    if (in && std::getline(in, secret) && !secret.empty()) return secret;
  }
  fs::create_directories(data_dir);
  std::string secret = generate_e2ee_secret();
  // Created private (0600) before anything is written to it.
  fs::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    out << secret << "\n";
    if (!out.flush()) throw BadInput("cannot write " + tmp.string());
  }
  fs::rename(tmp, file);
  return secret;
}

std::optional<fs::path> web_file(const std::string& web_dir, const std::string& request_path) {
  std::error_code ec;
  fs::path root = fs::canonical(web_dir, ec);
  if (ec) return std::nullopt;
  std::string rel = request_path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);  // never an absolute path
  if (rel.find('\0') != std::string::npos) return std::nullopt;
  fs::path file = fs::weakly_canonical(root / rel, ec);
  if (ec) return std::nullopt;
  // Whole components: "../web-evil/x" relative to /srv/web starts with "..".
  fs::path inside = file.lexically_relative(root);
  if (inside.empty() || inside == "." || *inside.begin() == "..") return std::nullopt;
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  return file;
}

AppServer::AppServer(AppConfig config)
    : config_(std::move(config)), web_assets_(config_.embedded_web), jobs_timer_(io_) {
  if (config_.database_url.empty()) {
    fs::create_directories(config_.data_dir);
    config_.database_url = (fs::path(config_.data_dir) / "parlor.db").string();
  }
  db_ = std::make_unique<Database>(config_.database_url);
  video_ = make_video_provider(config_.video);
  if (config_.settings.livekit_url.empty()) config_.settings.livekit_url = config_.video.url;
  if (config_.recordings_dir.empty()) {
    config_.recordings_dir = (fs::path(config_.data_dir) / "recordings").string();
  }
  config_.settings.recordings_dir = config_.recordings_dir;
  // SQLite (and `parlor dev`): one instance, so a key file of its own is the shared secret.
  // Several instances on PostgreSQL must share PARLOR_E2EE_SECRET instead (each would otherwise
  // make its own key, and a visit's participants on different instances would not meet).
  if (config_.settings.e2ee_secret.empty() &&
      (config_.dev || db_->kind() == Database::Kind::kSqlite)) {
    config_.settings.e2ee_secret = load_or_create_e2ee_secret(config_.data_dir);
    e2ee_from_file_ = true;
  }
  api_ = std::make_unique<AppApi>(config_.settings, *db_, *video_);
  api_->register_routes(router_);
  router_.set_fallback([this](const http::Request& req) { return serve_web(req); });
  router_.set_cors(false);  // the UI is same-origin; no cross-site API use
}

AppServer::~AppServer() { stop(); }

http::Response AppServer::serve_web(const http::Request& req) const {
  if (req.path.rfind("/api/", 0) == 0) return http::Response::json(404, R"({"error":{"code":"not_found","message":"no such API endpoint"}})");
  if (config_.web_dir.empty()) return web_assets_.serve(req);
  // From disk (--web-dir). Never serve outside the web root; unknown paths get index.html
  // (client-side routes).
  auto found = web_file(config_.web_dir, req.path);
  fs::path file = found ? *found : fs::path(config_.web_dir) / "index.html";
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return http::Response::text(404, "No web UI in --web-dir " + config_.web_dir +
                                         " (run `make web`). The API is under /api.");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  http::Response r;
  r.body = ss.str();
  r.headers.emplace_back("Content-Type", std::string(web_content_type(file.extension().string())));
  r.headers.emplace_back("Cache-Control", std::string(kRevalidateCache));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

std::vector<std::string> AppServer::startup_lines() const {
  std::vector<std::string> lines;
  if (tls_) {
    lines.push_back("listening app=" + config_.bind + ":" + std::to_string(port()) +
                    " over HTTPS (visitation API /api/, LiveKit webhooks /webhooks/livekit, web UI /)");
    lines.push_back("tls: " + config_.tls.cert_file + " (sha256 " + tls_->fingerprint() +
                    "), reloaded when it changes; HSTS max-age " +
                    std::to_string(config_.tls.hsts_max_age) + "; session cookie Secure");
    if (auto warning = tls_->key_permission_warning(); !warning.empty()) lines.push_back(warning);
  } else {
    lines.push_back("listening app=" + config_.bind + ":" + std::to_string(port()) +
                    " (visitation API /api/, LiveKit webhooks /webhooks/livekit, web UI /)");
  }
  std::error_code ec;
  if (!config_.web_dir.empty()) {
    if (fs::is_regular_file(fs::path(config_.web_dir) / "index.html", ec)) {
      lines.push_back("web UI: from " + config_.web_dir + " (--web-dir)");
    } else {
      lines.push_back("warning: --web-dir " + config_.web_dir +
                      " has no index.html: no web UI is served, only the API");
    }
  } else if (web_assets_.empty()) {
    lines.push_back(
        "warning: no web UI: this binary was built before `make web` and no --web-dir was "
        "given; only the API is served");
  } else {
    lines.push_back("web UI: embedded in the binary (" + std::to_string(web_assets_.size()) +
                    " files)");
  }
  bool postgres = config_.database_url.rfind("postgres", 0) == 0;
  // Never the URL itself: it may carry a password.
  lines.push_back(postgres ? "database: PostgreSQL (DATABASE_URL)"
                           : "database: SQLite " + config_.database_url);
  if (fs::is_directory(config_.recordings_dir, ec)) {
    lines.push_back("recordings: " + config_.recordings_dir);
  } else {
    lines.push_back("note: recordings directory " + config_.recordings_dir +
                    " does not exist (yet): recording downloads answer 404 until it does");
  }
  if (config_.settings.e2ee_secret.empty()) {
    lines.push_back(
        "warning: no PARLOR_E2EE_SECRET: privileged visits cannot be joined (they need "
        "end-to-end encryption; every instance on the database must share the secret)");
  } else if (e2ee_from_file_) {
    lines.push_back("e2ee: privileged visits' keys derived from " +
                    (fs::path(config_.data_dir) / kE2eeKeyFile).string());
  }
  std::string provider = config_.video.provider.empty() ? "livekit" : config_.video.provider;
  if (provider == "livekit") {
    lines.push_back("video: LiveKit protocol at " + config_.video.url);
  } else {
    lines.push_back("video: " + provider + " (tokens only: no moderation, no recordings)");
  }
  return lines;
}

void AppServer::start() {
  http::ServerOptions opts;
  opts.address = config_.bind;
  opts.port = config_.port;
  opts.body_limit = config_.body_limit;
  if (config_.tls.enabled()) {
    http::TlsOptions t;
    t.cert_file = config_.tls.cert_file;
    t.key_file = config_.tls.key_file;
    t.hsts_max_age = config_.tls.hsts_max_age;
    t.reload_interval = std::chrono::milliseconds(config_.tls.reload_interval_ms);
    t.handshake_timeout = std::chrono::seconds(config_.tls.handshake_timeout_seconds);
    tls_ = std::make_shared<http::TlsContext>(std::move(t));  // throws BadInput on bad files
    opts.tls = tls_;
    opts.log = [](bool failed, const std::string& message) {
      std::cerr << "parlor app: " << (failed ? "warning: " : "") << message << std::endl;
    };
  }
  http_ = std::make_unique<http::Server>(io_, router_, opts);
  http_->start();
  schedule_jobs();
  thread_ = std::thread([this] { io_.run(); });
}

void AppServer::schedule_jobs() {
  jobs_timer_.expires_after(config_.jobs_interval);
  jobs_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    // The timer's boundary: a failed run is logged and the next one comes as usual.
    if (auto caught = guarded([this] { api_->run_jobs(time(nullptr)); })) {
      std::cerr << "parlor app: jobs: " << caught->message << "\n";
    }
    schedule_jobs();
  });
}

void AppServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  io_.stop();
  if (thread_.joinable()) thread_.join();
  api_->stop();  // before io_ goes: queued requests hold connections
}

std::string AppServer::seed_demo() {
  int users = 0;
  db_->sql() << "SELECT COUNT(*) FROM users", soci::into(users);
  if (users > 0) return "Demo data already present (delete the data directory to reseed).\n";
  auto& api = *api_;
  db_->transaction([&] {
    api.create_user("admin@parlor.local", "Avery Admin", "admin", "parlor-admin");
    api.create_user("staff@parlor.local", "Sam Staff", "staff", "parlor-staff");
    long long resident = api.create_resident("Rosa Resident", "Unit 12");
    api.create_user("resident@parlor.local", "Rosa Resident", "resident", "parlor-resident", resident);
    long long visitor = api.create_visitor("Victor Visitor", "visitor@parlor.local");
    api.create_user("visitor@parlor.local", "Victor Visitor", "visitor", "parlor-visitor", 0, visitor);
    api.set_approval(visitor, resident, "approved", "seed");
    long long blocked = api.create_visitor("Blake Blocked", "blocked@parlor.local");
    api.create_user("blocked@parlor.local", "Blake Blocked", "visitor", "parlor-blocked", 0, blocked);
    api.set_approval(blocked, resident, "blocked", "seed");
    api.create_visit(resident, {visitor, blocked}, time(nullptr) - 60, 60, false, "scheduled", 0);
  });
  return "Demo logins (password after the slash):\n"
         "  admin@parlor.local    / parlor-admin\n"
         "  staff@parlor.local    / parlor-staff\n"
         "  resident@parlor.local / parlor-resident\n"
         "  visitor@parlor.local  / parlor-visitor   (approved)\n"
         "  blocked@parlor.local  / parlor-blocked   (blocked; cannot join)\n"
         "A 60-minute visit between Rosa Resident and Victor Visitor starts now.\n";
}

}  // namespace parlor::app
