#include "service/webhook_journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "common/errors.hpp"

namespace parlor::service {
namespace {

constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxBodyLength = 1 << 20;          // a webhook body is a few KiB
constexpr uint64_t kCompactAfterFinished = 1024;    // finished records before a rewrite

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string event_record(const WebhookJournal::Event& e) {
  std::string r = "E " + e.id + " " + std::to_string(e.body.size()) + "\n";
  r += e.body;
  r += '\n';
  return r;
}

}  // namespace

WebhookJournal::~WebhookJournal() {
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

std::vector<WebhookJournal::Event> WebhookJournal::replay(std::string_view bytes, uint64_t* bad_tail_bytes) {
  std::vector<Event> events;
  std::vector<bool> finished;
  std::unordered_map<std::string, size_t> index;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t eol = bytes.find('\n', pos);
    if (eol == std::string_view::npos) break;
    std::string_view line = bytes.substr(pos, eol - pos);
    if (line.size() > 2 + kMaxIdLength + 1 + 20) break;
    if (line.starts_with("D ")) {
      std::string_view id = line.substr(2);
      if (!valid_id(id)) break;
      if (auto it = index.find(std::string(id)); it != index.end()) finished[it->second] = true;
      pos = eol + 1;
      continue;
    }
    if (!line.starts_with("E ")) break;
    std::string_view rest = line.substr(2);
    size_t space = rest.find(' ');
    if (space == std::string_view::npos) break;
    std::string_view id = rest.substr(0, space);
    std::string_view len_text = rest.substr(space + 1);
    size_t len = 0;
    auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (!valid_id(id) || ec != std::errc{} || end != len_text.data() + len_text.size() || len > kMaxBodyLength) {
      break;
    }
    size_t body_at = eol + 1;
    if (body_at + len + 1 > bytes.size() || bytes[body_at + len] != '\n') break;  // cut short
    std::string key(id);
    if (!index.count(key)) {
      index.emplace(key, events.size());
      events.push_back({std::move(key), std::string(bytes.substr(body_at, len))});
      finished.push_back(false);
    }
    pos = body_at + len + 1;
  }
  if (bad_tail_bytes) *bad_tail_bytes = bytes.size() - pos;
  std::vector<Event> pending;
  for (size_t i = 0; i < events.size(); ++i) {
    if (!finished[i]) pending.push_back(std::move(events[i]));
  }
  return pending;
}

std::vector<WebhookJournal::Event> WebhookJournal::open(const std::string& path) {
  path_ = path;
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // One process owns a queue file: a second server on the same file would deliver twice.
  std::string lock_path = path + ".lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) {
    throw BadInput("webhook.queue_file: cannot create '" + lock_path + "': " + std::strerror(errno));
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw BadInput("webhook.queue_file: '" + path + "' is in use by another parlor media process");
  }
  std::string bytes;
  if (std::filesystem::exists(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw BadInput("webhook.queue_file: cannot read '" + path + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    bytes = ss.str();
  }
  uint64_t bad_tail = 0;
  auto pending = replay(bytes, &bad_tail);
  dropped_on_open_ = bad_tail;
  rewrite(pending);
  return pending;
}

void WebhookJournal::rewrite(const std::vector<Event>& pending) {
  std::string tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw BadInput("webhook.queue_file: cannot write '" + tmp + "': " + std::strerror(errno));
  std::string all;
  for (const auto& e : pending) all += event_record(e);
  size_t off = 0;
  while (off < all.size()) {
    ssize_t n = ::write(fd, all.data() + off, all.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw BadInput("webhook.queue_file: cannot write '" + tmp + "': " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  ::fdatasync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    throw BadInput("webhook.queue_file: cannot replace '" + path_ + "': " + std::strerror(errno));
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) throw BadInput("webhook.queue_file: cannot open '" + path_ + "': " + std::strerror(errno));
  finished_records_ = 0;
}

bool WebhookJournal::write_all(const std::string& bytes) {
  if (fd_ < 0) return false;
  // One write(2) on an O_APPEND file: a record is appended whole or (on a short write, disk
  // full) cut short, which the replay drops.
  ssize_t n;
  do {
    n = ::write(fd_, bytes.data(), bytes.size());
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(bytes.size())) {
    ++write_errors_;
    return false;
  }
  return true;
}

bool WebhookJournal::append(const Event& event) {
  if (!valid_id(event.id) || event.body.size() > kMaxBodyLength) {
    ++write_errors_;
    return false;
  }
  return write_all(event_record(event));
}

bool WebhookJournal::done(const std::string& id) {
  if (!valid_id(id)) return false;
  ++finished_records_;
  return write_all("D " + id + "\n");
}

void WebhookJournal::sync() {
  if (fd_ >= 0) ::fdatasync(fd_);
}

bool WebhookJournal::needs_compaction() const {
  return fd_ >= 0 && finished_records_ >= kCompactAfterFinished;
}

void WebhookJournal::compact(const std::vector<Event>& pending) {
  try {
    rewrite(pending);
  } catch (const BadInput&) {
    ++write_errors_;  // keep appending to the old file; the replay is still correct
  }
}

}  // namespace parlor::service
