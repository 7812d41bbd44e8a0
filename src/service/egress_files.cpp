#include "service/egress_files.hpp"

#include <ctime>
#include <system_error>

#include "common/errors.hpp"

namespace parlor::service {

namespace fs = std::filesystem;

namespace {

std::string confined_value(std::string v) {
  for (auto& c : v) {
    if (c == '/' || c == '\\' || c == '\0') c = '_';
  }
  if (v == "." || v == "..") v = "_";
  return v;
}

std::string format_time(int64_t unix_seconds, bool utc, const char* format) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (utc) {
    gmtime_r(&t, &tm);
  } else {
    localtime_r(&t, &tm);
  }
  char buf[32];
  size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

}  // namespace

std::string expand_template(const std::string& pattern, const FileTemplateValues& v) {
  const std::pair<const char*, std::string> names[] = {
      {"{room_name}", confined_value(v.room_name)},
      {"{room_id}", confined_value(v.room_id)},
      {"{track_id}", confined_value(v.track_id)},
      {"{track_source}", confined_value(v.track_source)},
      {"{track_type}", confined_value(v.track_type)},
      {"{publisher_identity}", confined_value(v.publisher_identity)},
      // LiveKit's layouts: Go's "2006-01-02T150405" (local) and "20060102150405" (UTC).
      {"{time}", format_time(v.unix_seconds, false, "%Y-%m-%dT%H%M%S")},
      {"{utc}", format_time(v.unix_seconds, true, "%Y%m%d%H%M%S")},
  };
  std::string out;
  out.reserve(pattern.size());
  for (size_t i = 0; i < pattern.size();) {
    bool replaced = false;
    if (pattern[i] == '{') {
      for (const auto& [name, value] : names) {
        if (pattern.compare(i, std::char_traits<char>::length(name), name) == 0) {
          out += value;
          i += std::char_traits<char>::length(name);
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += pattern[i++];
  }
  return out;
}

fs::path output_relative_path(const std::string& filepath, const std::string& default_name,
                              const std::string& extension, const FileTemplateValues& values) {
  if (filepath.find('\0') != std::string::npos) throw BadInput("filepath contains a NUL byte");
  std::string pattern = filepath;
  if (pattern.empty() || pattern.back() == '/') pattern += default_name;
  std::string expanded = expand_template(pattern, values);
  fs::path rel(expanded);
  if (rel.is_absolute() || (!expanded.empty() && expanded.front() == '/')) {
    throw BadInput("filepath '" + filepath +
                   "' is absolute: give a path relative to the recordings directory");
  }
  for (const auto& part : rel) {
    if (part == "..") {
      throw BadInput("filepath '" + filepath + "' leaves the recordings directory ('..')");
    }
  }
  rel = rel.lexically_normal();
  if (rel.empty() || rel == "." || !rel.has_filename()) {
    throw BadInput("filepath '" + filepath + "' names no file");
  }
  std::string name = rel.string();
  if (name.size() < extension.size() ||
      name.compare(name.size() - extension.size(), extension.size(), extension) != 0) {
    name += extension;
  }
  return fs::path(name);
}

fs::path recordings_root(const std::string& configured) {
  std::error_code ec;
  fs::path root = fs::absolute(configured, ec);
  if (ec) throw InternalError("recordings directory " + configured + ": " + ec.message());
  return root.lexically_normal();
}

fs::path prepare_output(const fs::path& root, const fs::path& relative) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) {
    throw InternalError("cannot create the recordings directory " + root.string() + ": " +
                        ec.message());
  }
  fs::path file = (root / relative).lexically_normal();
  fs::create_directories(file.parent_path(), ec);
  if (ec) {
    throw InternalError("cannot create " + file.parent_path().string() + ": " + ec.message());
  }
  // A symbolic link inside the directory must not lead out of it.
  fs::path real_root = fs::weakly_canonical(root, ec);
  fs::path real_file = ec ? fs::path() : fs::weakly_canonical(file, ec);
  if (ec) throw InternalError("cannot resolve " + file.string() + ": " + ec.message());
  fs::path inside = real_file.lexically_relative(real_root);
  if (inside.empty() || *inside.begin() == "..") {
    throw BadInput("filepath '" + relative.string() + "' leaves the recordings directory");
  }
  return file;
}

}  // namespace parlor::service
