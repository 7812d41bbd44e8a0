#pragma once
// Where an egress writes: LiveKit's filename templates, default names, the extension that
// matches the container, and confinement to the configured recordings directory (nothing is
// ever written outside it).
//
// Threading: pure functions, except prepare_output(), which creates directories.
#include <cstdint>
#include <filesystem>
#include <string>

namespace parlor::service {

// The values LiveKit's templates name: {room_name}, {room_id}, {track_id}, {track_source},
// {track_type}, {publisher_identity}, {time} (local, 2006-01-02T150405) and {utc}
// (20060102150405).
struct FileTemplateValues {
  std::string room_name, room_id, track_id, track_source, track_type, publisher_identity;
  int64_t unix_seconds = 0;
};

// Replaces every known {name} in `pattern`. Substituted values cannot add directories: '/' and
// '\' in them become '_', and a value of "." or ".." becomes "_".
std::string expand_template(const std::string& pattern, const FileTemplateValues& values);

// The relative path a request's `filepath` names: the default name when it is empty or ends in
// '/' (a directory), templates expanded, and `extension` (".mp4", ".webm", ".ogg", ".mkv")
// appended unless the name already ends in it. Throws parlor::BadInput (Twirp invalid_argument)
// for an absolute path, a '..' component, a NUL byte or an empty result.
std::filesystem::path output_relative_path(const std::string& filepath,
                                           const std::string& default_name,
                                           const std::string& extension,
                                           const FileTemplateValues& values);

// `root / relative`, its parent directories created, checked to stay inside `root` once
// symbolic links are resolved. Throws parlor::BadInput when it would leave the directory and
// parlor::InternalError when the directories cannot be created (with the system's reason).
std::filesystem::path prepare_output(const std::filesystem::path& root,
                                     const std::filesystem::path& relative);

// The absolute recordings directory from the configured one (relative to the working directory).
std::filesystem::path recordings_root(const std::string& configured);

}  // namespace parlor::service
