// `parlor admin`: create-user, migrate and verify-recordings, against the app's database.
#include <iostream>
#include <filesystem>
#include <map>
#include <string>

#include "app/api/app_api.hpp"
#include "app/domain/recording_manifest.hpp"
#include "app/store/database.hpp"
#include "app/store/manifest_store.hpp"
#include "app/video/video_provider.hpp"
#include "common/errors.hpp"
#include "main/commands.hpp"

namespace parlor::cmd {

namespace {
constexpr const char* kAdminUsage = R"(usage:
  parlor admin migrate     [--database-url URL | --data-dir DIR]
  parlor admin verify-recordings [--database-url URL | --data-dir DIR] [--recordings-dir DIR]
      walks the recording manifest's hash chain and re-hashes every stored recording; prints
      each file that changed or is missing and each broken link; exit status 1 if any
  parlor admin create-user --email E --name N --role admin|staff|resident|visitor --password P
                           [--database-url URL | --data-dir DIR]
Passwords may also come from the PARLOR_PASSWORD environment variable. The recordings
directory defaults to PARLOR_RECORDINGS_DIR, else DATA-DIR/recordings.
)";

// verify-recordings: 0 when the chain is intact and every file matches, 1 otherwise.
int verify_recordings(app::Database& db, const std::string& recordings_dir) {
  auto entries = app::load_manifest(db);
  auto problems = app::verify_manifest(entries, [&](const std::string& location) {
    return app::resolve_recording_file(recordings_dir, location);
  });
  size_t recorded = 0, deleted = 0;
  for (const auto& e : entries) (e.kind == "deleted" ? deleted : recorded)++;
  for (const auto& p : problems) {
    std::cout << "FAIL recording " << p.recording_id << " (manifest entry " << p.seq << ", "
              << (p.location.empty() ? "no file" : p.location) << "): " << p.what << "\n";
  }
  std::cout << (problems.empty() ? "ok: " : "FAILED: ") << entries.size()
            << " manifest entries (" << recorded << " recorded, " << deleted
            << " deleted by retention) checked against " << recordings_dir << "; "
            << problems.size() << " problem" << (problems.size() == 1 ? "" : "s") << "\n";
  return problems.empty() ? 0 : 1;
}

// create-user needs no video service; a provider that refuses everything keeps AppApi honest.
class NoVideo : public app::VideoProvider {
 public:
  const char* name() const override { return "none"; }
  app::JoinToken join_token(const app::JoinGrant&) override { throw InternalError("no video"); }
  void mute_track(const std::string&, const std::string&, const std::string&, bool) override {}
  void remove_participant(const std::string&, const std::string&) override {}
  app::RoomSummary create_room(const app::RoomOptions&) override { return {}; }
  void update_room_metadata(const std::string&, const std::string&) override {}
  bool supports_recording() const override { return false; }
  std::string start_room_recording(const std::string&, const std::string&) override {
    throw InternalError("no video");
  }
  void stop_recording(const std::string&) override {}
  void end_room(const std::string&) override {}
  std::vector<app::RoomSummary> list_rooms() override { return {}; }
  void send_data(const std::string&, const std::string&, const std::string&) override {}
  nlohmann::json list_participants(const std::string&) override { return {}; }
  nlohmann::json verify_webhook(const std::string&, const std::string&) override {
    throw Unauthenticated("no video");
  }
};
}  // namespace

int run_admin(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::cout << kAdminUsage;
    return argc < 2 ? 2 : 0;
  }
  std::string sub = argv[1];
  std::map<std::string, std::string> opt;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::cerr << "parlor admin: bad argument '" << a << "'\n" << kAdminUsage;
      return 2;
    }
    opt[a.substr(2)] = argv[++i];
  }
  try {
    std::string url = opt.count("database-url") ? opt["database-url"]
                      : getenv("DATABASE_URL")  ? getenv("DATABASE_URL")
                                                : "";
    if (url.empty()) {
      std::string dir = opt.count("data-dir") ? opt["data-dir"] : "data";
      std::filesystem::create_directories(dir);
      url = dir + "/parlor.db";
    }
    app::Database db(url);
    if (sub == "verify-recordings") {
      const char* env_dir = getenv("PARLOR_RECORDINGS_DIR");
      std::string dir = opt.count("recordings-dir") ? opt["recordings-dir"]
                        : env_dir && *env_dir
                            ? env_dir
                            : (std::filesystem::path(opt.count("data-dir") ? opt["data-dir"]
                                                                           : "data") /
                               "recordings")
                                  .string();
      return verify_recordings(db, dir);
    }
    if (sub == "migrate") {
      std::cout << "database at schema version " << db.schema_version() << "\n";
      return 0;
    }
    if (sub == "create-user") {
      if (!opt.count("password") && getenv("PARLOR_PASSWORD")) opt["password"] = getenv("PARLOR_PASSWORD");
      for (const char* k : {"email", "name", "role", "password"}) {
        if (!opt.count(k)) throw BadInput(std::string("--") + k + " is required");
      }
      NoVideo video;
      app::AppApi api({}, db, video);
      long long resident = 0, visitor = 0;
      if (opt["role"] == "resident") resident = api.create_resident(opt["name"], opt["unit"]);
      if (opt["role"] == "visitor") visitor = api.create_visitor(opt["name"], opt["email"]);
      auto id = api.create_user(opt["email"], opt["name"], opt["role"], opt["password"], resident, visitor);
      std::cout << "created user " << id << " (" << opt["email"] << ", " << opt["role"] << ")\n";
      return 0;
    }
    std::cerr << "parlor admin: unknown subcommand '" << sub << "'\n" << kAdminUsage;
    return 2;
  } catch (const Error& e) {
    std::cerr << "parlor admin: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {  // the database failed (soci_error), a file system error
    std::cerr << "parlor admin: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace parlor::cmd
