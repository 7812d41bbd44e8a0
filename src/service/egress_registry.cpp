#include "service/egress_registry.hpp"

#include <algorithm>
#include <chrono>

#include "common/encoding.hpp"
#include "service/twirp.hpp"

namespace parlor::service {

int64_t unix_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

EgressRegistry::EgressRegistry(uint32_t max_active, uint32_t max_finished, Listener listener,
                               NowNs now_ns)
    : max_active_(max_active),
      max_finished_(max_finished),
      listener_(std::move(listener)),
      now_ns_(now_ns ? std::move(now_ns) : NowNs(unix_nanos)) {}

bool EgressRegistry::ended(livekit::EgressStatus s) {
  return s == livekit::EGRESS_COMPLETE || s == livekit::EGRESS_FAILED ||
         s == livekit::EGRESS_ABORTED || s == livekit::EGRESS_LIMIT_REACHED;
}

livekit::EgressInfo EgressRegistry::create(livekit::EgressInfo info) {
  std::lock_guard lock(mutex_);
  if (active_ >= max_active_) {
    throw TwirpError("resource_exhausted", "too many egresses are recording (egress.max_active is " +
                                               std::to_string(max_active_) + ")");
  }
  std::string id;
  do {
    id = common::random_id("EG_");
  } while (egresses_.count(id));
  info.set_egress_id(id);
  info.set_status(livekit::EGRESS_STARTING);
  info.set_source_type(livekit::EGRESS_SOURCE_TYPE_SDK);  // recorded from the SFU, no browser
  info.set_updated_at(now_ns_());
  egresses_[id] = info;
  ++active_;
  if (listener_) listener_("egress_started", info);
  return info;
}

std::optional<livekit::EgressInfo> EgressRegistry::get(const std::string& egress_id) const {
  std::lock_guard lock(mutex_);
  auto it = egresses_.find(egress_id);
  if (it == egresses_.end()) return std::nullopt;
  return it->second;
}

std::vector<livekit::EgressInfo> EgressRegistry::list(const std::string& room_name,
                                                      const std::string& egress_id,
                                                      bool active) const {
  std::lock_guard lock(mutex_);
  std::vector<livekit::EgressInfo> out;
  for (const auto& [id, info] : egresses_) {
    if (!egress_id.empty() && id != egress_id) continue;
    if (!room_name.empty() && info.room_name() != room_name) continue;
    if (active && ended(info.status())) continue;
    out.push_back(info);
  }
  return out;
}

size_t EgressRegistry::active_count() const {
  std::lock_guard lock(mutex_);
  return active_;
}

std::optional<livekit::EgressInfo> EgressRegistry::activate(const std::string& egress_id) {
  std::lock_guard lock(mutex_);
  auto it = egresses_.find(egress_id);
  if (it == egresses_.end() || it->second.status() != livekit::EGRESS_STARTING) return std::nullopt;
  auto& info = it->second;
  const int64_t now = now_ns_();
  info.set_status(livekit::EGRESS_ACTIVE);
  info.set_started_at(now);
  info.set_updated_at(now);
  if (listener_) listener_("egress_updated", info);
  return info;
}

std::optional<livekit::EgressInfo> EgressRegistry::ending(const std::string& egress_id) {
  std::lock_guard lock(mutex_);
  auto it = egresses_.find(egress_id);
  if (it == egresses_.end()) return std::nullopt;
  auto& info = it->second;
  if (info.status() != livekit::EGRESS_STARTING && info.status() != livekit::EGRESS_ACTIVE) {
    return std::nullopt;
  }
  info.set_status(livekit::EGRESS_ENDING);
  info.set_updated_at(now_ns_());
  if (listener_) listener_("egress_updated", info);
  return info;
}

std::optional<livekit::EgressInfo> EgressRegistry::complete(
    const std::string& egress_id, const std::vector<livekit::FileInfo>& files,
    const std::string& details, bool backup_storage_used) {
  return end(egress_id, livekit::EGRESS_COMPLETE, "", &files, details, backup_storage_used);
}

std::optional<livekit::EgressInfo> EgressRegistry::fail(const std::string& egress_id,
                                                        const std::string& error) {
  return end(egress_id, livekit::EGRESS_FAILED, error, nullptr);
}

std::optional<livekit::EgressInfo> EgressRegistry::abort(const std::string& egress_id,
                                                         const std::string& error) {
  return end(egress_id, livekit::EGRESS_ABORTED, error, nullptr);
}

std::optional<livekit::EgressInfo> EgressRegistry::end(const std::string& egress_id,
                                                       livekit::EgressStatus status,
                                                       const std::string& error,
                                                       const std::vector<livekit::FileInfo>* files,
                                                       const std::string& details,
                                                       bool backup_storage_used) {
  std::lock_guard lock(mutex_);
  auto it = egresses_.find(egress_id);
  if (it == egresses_.end() || ended(it->second.status())) return std::nullopt;
  auto& info = it->second;
  // COMPLETE needs a recording that ran: from ACTIVE, or ENDING (stopped, perhaps before the
  // first frame was seen as written; then it started with its first file).
  if (status == livekit::EGRESS_COMPLETE && info.status() == livekit::EGRESS_STARTING) {
    return std::nullopt;
  }
  const int64_t now = now_ns_();
  if (status == livekit::EGRESS_COMPLETE && info.started_at() == 0) {
    int64_t first = now;
    for (const auto& f : *files) {
      if (f.started_at() > 0) first = std::min(first, f.started_at());
    }
    info.set_started_at(first);
  }
  info.set_status(status);
  info.set_ended_at(now);
  info.set_updated_at(now);
  if (!error.empty()) info.set_error(error);
  if (!details.empty()) info.set_details(details);
  if (backup_storage_used) info.set_backup_storage_used(true);
  if (files) {
    info.clear_file_results();
    for (const auto& f : *files) *info.add_file_results() = f;
  }
  --active_;
  finished_.push_back(egress_id);
  if (listener_) listener_("egress_ended", info);
  auto out = info;
  forget_old_finished();
  return out;
}

void EgressRegistry::forget_old_finished() {
  while (finished_.size() > max_finished_) {
    egresses_.erase(finished_.front());
    finished_.pop_front();
  }
}

livekit::EgressInfo EgressRegistry::update_layout(const std::string& egress_id,
                                                  const std::string& layout) {
  std::lock_guard lock(mutex_);
  auto it = egresses_.find(egress_id);
  if (it == egresses_.end()) throw TwirpError("not_found", "egress does not exist");
  auto& info = it->second;
  if (ended(info.status())) {
    throw TwirpError("failed_precondition", "egress " + egress_id + " has ended");
  }
  if (!info.has_room_composite()) {
    throw TwirpError("failed_precondition",
                     "UpdateLayout applies to room composite egresses only");
  }
  info.mutable_room_composite()->set_layout(layout);
  info.set_updated_at(now_ns_());
  if (listener_) listener_("egress_updated", info);
  return info;
}

}  // namespace parlor::service
