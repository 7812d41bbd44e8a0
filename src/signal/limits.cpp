#include "signal/limits.hpp"

namespace parlor::signal {

namespace {
// AudioTrackFeature and PacketTrailerFeature have a handful of values each; a longer list is
// repetition, refused so nothing a client sends is stored unbounded.
constexpr int kMaxFeatureFlags = 16;
// A simulcast codec's own layers and name are bounded like the track's.
constexpr size_t kMaxCodecNameLength = 64;

std::string over(const char* what, size_t limit) {
  return std::string(what) + " exceeds " + std::to_string(limit);
}
}  // namespace

std::optional<std::string> check_add_track(const livekit::AddTrackRequest& r,
                                           const config::LimitConfig& limits) {
  const size_t max_name = limits.max_track_name_length;
  if (r.name().size() > max_name) return over("track name length", max_name);
  if (r.stream().size() > max_name) return over("track stream name length", max_name);
  if (r.cid().size() > max_name) return over("track cid length", max_name);
  if (r.sid().size() > max_name) return over("track sid length", max_name);
  if (static_cast<uint32_t>(r.layers_size()) > limits.max_track_layers) {
    return over("simulcast layer count", limits.max_track_layers);
  }
  if (static_cast<uint32_t>(r.simulcast_codecs_size()) > limits.max_track_codecs) {
    return over("simulcast codec count", limits.max_track_codecs);
  }
  for (const auto& c : r.simulcast_codecs()) {
    if (c.cid().size() > max_name) return over("simulcast codec cid length", max_name);
    if (c.codec().size() > kMaxCodecNameLength)
      return over("simulcast codec name length", kMaxCodecNameLength);
    if (static_cast<uint32_t>(c.layers_size()) > limits.max_track_layers) {
      return over("simulcast codec layer count", limits.max_track_layers);
    }
  }
  if (r.audio_features_size() > kMaxFeatureFlags ||
      r.packet_trailer_features_size() > kMaxFeatureFlags) {
    return over("feature flag count", kMaxFeatureFlags);
  }
  return std::nullopt;
}

livekit::AddTrackRequest echo_of(const livekit::AddTrackRequest& r,
                                 const config::LimitConfig& limits) {
  livekit::AddTrackRequest e;
  const size_t max_name = limits.max_track_name_length;
  if (r.cid().size() <= max_name) e.set_cid(r.cid());
  if (r.name().size() <= max_name) e.set_name(r.name());
  e.set_type(r.type());
  e.set_source(r.source());
  e.set_muted(r.muted());
  e.set_width(r.width());
  e.set_height(r.height());
  return e;
}

std::optional<std::string> check_attributes(const std::map<std::string, std::string>& attributes,
                                            const config::LimitConfig& limits) {
  if (attributes.size() > limits.max_attributes_count)
    return over("attribute count", limits.max_attributes_count);
  size_t bytes = 0;
  for (const auto& [k, v] : attributes) bytes += k.size() + v.size();
  if (bytes > limits.max_attributes_size)
    return over("attributes size", limits.max_attributes_size);
  return std::nullopt;
}

std::optional<std::string> check_attributes(
    const std::map<std::string, std::string>& current,
    const google::protobuf::Map<std::string, std::string>& updates,
    const config::LimitConfig& limits) {
  // The update alone must fit before it is merged (no large temporary copy for a huge request).
  if (static_cast<size_t>(updates.size()) > limits.max_attributes_count * 2u) {
    return over("attribute count", limits.max_attributes_count);
  }
  size_t update_bytes = 0;
  for (const auto& [k, v] : updates) update_bytes += k.size() + v.size();
  if (update_bytes > limits.max_attributes_size * 2u)
    return over("attributes size", limits.max_attributes_size);
  auto merged = current;
  for (const auto& [k, v] : updates) {
    if (v.empty())
      merged.erase(k);
    else
      merged[k] = v;
  }
  return check_attributes(merged, limits);
}

std::optional<std::string> check_join_claims(const auth::ClaimGrants& claims,
                                             const config::LimitConfig& limits) {
  if (claims.metadata.size() > limits.max_metadata_size)
    return over("participant metadata size", limits.max_metadata_size);
  return check_attributes(claims.attributes, limits);
}

}  // namespace parlor::signal
