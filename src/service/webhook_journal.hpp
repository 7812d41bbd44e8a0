#pragma once
// The durable side of the webhook queue (`webhook.queue_file`): an append-only file of the events
// not yet delivered, so that a media server killed between an event and its delivery delivers it
// after the restart.
//
// Records, each complete or ignored:
//   "E <id> <length>\n" <length bytes of body> "\n"   an event was queued
//   "D <id>\n"                                        it was delivered (or given up)
// Opening replays the file and rewrites it with only the pending events, in their order. A record
// cut short by a crash, or any bytes that do not parse, end the replay there: what came before is
// kept, the rest is dropped and counted. Appends are single write(2) calls on an O_APPEND file
// (a process killed right after an append loses nothing); sync() makes them survive a power loss.
// One process at a time: open() takes an exclusive lock on `<path>.lock`. Not thread-safe: the
// notifier calls it under its own lock.
#include <cstdint>
#include <string>
#include <vector>

namespace parlor::service {

class WebhookJournal {
 public:
  struct Event {
    std::string id;
    std::string body;
  };

  WebhookJournal() = default;
  ~WebhookJournal();
  WebhookJournal(const WebhookJournal&) = delete;
  WebhookJournal& operator=(const WebhookJournal&) = delete;

  // Opens (creating it and its directory if needed) and returns the pending events in the order
  // they were queued. Throws BadInput naming the path when it cannot be read or written.
  std::vector<Event> open(const std::string& path);
  bool is_open() const { return fd_ >= 0; }

  // Both return false (and count a write error) when the write did not complete.
  bool append(const Event& event);
  bool done(const std::string& id);
  // Flushes appended records to the disk. May run beside append() on another thread, but not
  // beside open() or compact().
  void sync();
  // True when enough finished records have piled up that the file should be rewritten.
  bool needs_compaction() const;
  // Rewrites the file with only `pending` (a failure is counted; appends go on to the old file).
  void compact(const std::vector<Event>& pending);

  uint64_t dropped_on_open() const { return dropped_on_open_; }
  uint64_t write_errors() const { return write_errors_; }

  // Parses journal bytes into the pending events (exposed for tests and the fuzzer).
  static std::vector<Event> replay(std::string_view bytes, uint64_t* bad_tail_bytes = nullptr);

 private:
  bool write_all(const std::string& bytes);
  void rewrite(const std::vector<Event>& pending);

  std::string path_;
  int fd_ = -1;
  int lock_fd_ = -1;  // flock'ed for as long as this journal is open
  uint64_t finished_records_ = 0;
  uint64_t dropped_on_open_ = 0;
  uint64_t write_errors_ = 0;
};

}  // namespace parlor::service
