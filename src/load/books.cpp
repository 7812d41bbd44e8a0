#include "load/books.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace parlor::load {

namespace {
// Problems listed one by one up to this many; the rest are counted.
constexpr size_t kMaxListedProblems = 20;
}  // namespace

Books check_books(const std::vector<PeerResult>& peers) {
  Books b;
  size_t unlisted = 0;
  auto problem = [&](std::string text) {
    if (b.problems.size() < kMaxListedProblems) {
      b.problems.push_back(std::move(text));
    } else {
      ++unlisted;
    }
  };
  std::map<uint32_t, const TrackSent*> sent;
  std::map<std::string, std::set<uint32_t>> room_tracks;
  for (const auto& p : peers) {
    if (!p.error.empty())
      problem((p.publisher ? "publisher " : "subscriber ") + p.identity + " failed: " + p.error);
    if (!p.publisher) continue;
    if (!p.join_ms) problem("publisher " + p.identity + " never joined");
    for (const auto& t : p.sent) {
      sent[t.track] = &t;
      room_tracks[p.room].insert(t.track);
      for (auto n : t.packets) b.published_packets += n;
    }
  }
  double jitter_sum = 0;
  for (const auto& p : peers) {
    if (p.publisher) continue;
    if (!p.join_ms) problem("subscriber " + p.identity + " never joined");
    const auto& want = room_tracks[p.room];
    b.expected_streams += want.size();
    std::set<uint32_t> got;
    for (const auto& s : p.streams) {
      const auto& c = s.counters;
      if (c.unique == 0) continue;
      ++b.streams;
      b.received += c.unique;
      b.duplicates += c.duplicates;
      b.late += c.late;
      b.too_late += c.too_late;
      b.lost += c.lost;
      b.server_skipped += c.server_skipped;
      b.layer_switches += c.layer_switches;
      b.resumes += c.resumes;
      b.timestamp_anomalies += c.timestamp_anomalies;
      jitter_sum += s.jitter_ms;
      b.jitter_ms_max = std::max(b.jitter_ms_max, s.jitter_ms);
      std::string where = "subscriber " + p.identity + " SSRC " + std::to_string(s.ssrc);
      if (c.unique + c.lost != c.expected()) {
        problem(where + ": unique " + std::to_string(c.unique) + " + lost " +
                std::to_string(c.lost) + " != expected " + std::to_string(c.expected()));
      }
      if (c.phantom)
        problem(where + ": " + std::to_string(c.phantom) +
                " packets numbered that no publisher sent");
      if (c.track_changed) problem(where + ": the stream carried more than one track");
      if (!s.track) {
        problem(where + ": no tagged packet (" + std::to_string(c.untagged) + " untagged)");
        continue;
      }
      got.insert(*s.track);
      auto it = sent.find(*s.track);
      if (it == sent.end() || !want.count(*s.track)) {
        problem(where + ": track " + std::to_string(*s.track) + " is not published in room " +
                p.room);
        continue;
      }
      if (s.last_tag) {
        uint32_t published = it->second->packets[std::min<uint8_t>(s.last_tag->layer, 2)];
        if (s.last_tag->index >= published) {
          problem(where + ": packet index " + std::to_string(s.last_tag->index) + " of layer " +
                  std::to_string(s.last_tag->layer) + " beyond the " + std::to_string(published) +
                  " sent");
        } else {
          b.tail_unreceived += published - 1 - s.last_tag->index;
        }
      }
    }
    for (uint32_t t : want) {
      if (!got.count(t))
        problem("subscriber " + p.identity + " received nothing of track " + std::to_string(t));
    }
  }
  if (b.streams) b.jitter_ms_mean = jitter_sum / static_cast<double>(b.streams);
  if (b.expected_streams > 0 && b.received == 0) problem("no packet reached any subscriber");
  if (unlisted) b.problems.push_back("... and " + std::to_string(unlisted) + " more problems");
  return b;
}

}  // namespace parlor::load
