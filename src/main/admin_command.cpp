// `parlor admin`: create-user and migrate, against the app's database.
#include <iostream>
#include <filesystem>
#include <map>
#include <string>

#include "app/api/app_api.hpp"
#include "app/store/database.hpp"
#include "app/video/video_provider.hpp"
#include "common/errors.hpp"
#include "main/commands.hpp"

namespace parlor::cmd {

namespace {
constexpr const char* kAdminUsage = R"(usage:
  parlor admin migrate     [--database-url URL | --data-dir DIR]
  parlor admin create-user --email E --name N --role admin|staff|resident|visitor --password P
                           [--database-url URL | --data-dir DIR]
Passwords may also come from the PARLOR_PASSWORD environment variable.
)";

// create-user needs no video service; a provider that refuses everything keeps AppApi honest.
class NoVideo : public app::VideoProvider {
 public:
  const char* name() const override { return "none"; }
  app::JoinToken join_token(const app::JoinGrant&) override { throw InternalError("no video"); }
  void mute_track(const std::string&, const std::string&, const std::string&, bool) override {}
  void remove_participant(const std::string&, const std::string&) override {}
  void create_room(const app::RoomOptions&) override {}
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
  }
}

}  // namespace parlor::cmd
