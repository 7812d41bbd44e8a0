#include "egress/track_recorder.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

#include "common/boundary.hpp"
#include "common/errors.hpp"
#include "egress/frame_assembler.hpp"
#include "egress/muxer.hpp"
#include "egress/packet_ring.hpp"

namespace parlor::egress {
namespace {

// How often the recorder's thread looks at the ring. The worker never signals it (that would
// need a lock or a syscall on the media path); at 5 ms a 2048-slot ring holds far more than
// arrives in between (720p VP8 is ~250 packets/s).
constexpr auto kPollInterval = std::chrono::milliseconds(5);

// NTP (RFC 3550 §4: seconds since 1900 in the high 32 bits, fraction in the low) to Unix ns.
int64_t ntp_to_unix_ns(uint64_t ntp) {
  constexpr int64_t kNtpToUnixSeconds = 2'208'988'800;
  int64_t seconds = static_cast<int64_t>(ntp >> 32) - kNtpToUnixSeconds;
  int64_t fraction_ns = static_cast<int64_t>(((ntp & 0xFFFFFFFFull) * 1'000'000'000ull) >> 32);
  return seconds * 1'000'000'000 + fraction_ns;
}

int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Tap final : public RecorderTap {
 public:
  explicit Tap(size_t slots) : ring_(slots) {}

  bool send_rtp(std::span<const uint8_t> plain) override {
    if (ring_.push(PacketRing::Kind::kRtp, plain)) return true;
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  void sender_report(const rtc::rtcp::SenderInfo& info) override {
    uint8_t bytes[12];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(info.ntp_time >> (56 - 8 * i));
    for (int i = 0; i < 4; ++i) bytes[8 + i] = static_cast<uint8_t>(info.rtp_time >> (24 - 8 * i));
    ring_.push(PacketRing::Kind::kSenderReport, bytes);  // a lost report is replaced by the next
  }
  bool take_keyframe_request() override { return keyframe_request_.exchange(false, std::memory_order_acq_rel); }

  // Consumer side.
  PacketRing& ring() { return ring_; }
  void request_keyframe() { keyframe_request_.store(true, std::memory_order_release); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  PacketRing ring_;
  std::atomic<bool> keyframe_request_{false};
  std::atomic<uint64_t> dropped_{0};
};

class Recorder final : public TrackRecorder, private FrameAssembler::Sink {
 public:
  explicit Recorder(Options options)
      : options_(std::move(options)),
        part_path_(options_.final_path.string() + ".part"),
        tap_(options_.ring_packets),
        assembler_(options_.format, *this),
        muxer_(part_path_, options_.container, options_.format) {
    if (options_.format.video) tap_.request_keyframe();  // the file starts with a keyframe
    thread_ = std::thread([this] { run(); });
  }
  ~Recorder() override { finish(); }

  RecorderTap& tap() override { return tap_; }
  uint64_t frames() const override { return frames_.load(std::memory_order_relaxed); }
  std::optional<std::string> failure() const override {
    std::lock_guard lock(mutex_);
    if (failure_.empty()) return std::nullopt;
    return failure_;
  }

  RecordingResult finish() override {
    std::lock_guard finish_lock(finish_mutex_);
    if (result_) return *result_;
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (!muxer_.close()) set_failure(muxer_.error());

    RecordingResult r;
    r.frames = muxer_.frames();
    r.dropped_packets = tap_.dropped();
    r.damaged_frames = assembler_.stats().damaged_frames;
    r.started_at = started_at_;
    r.ended_at = ended_at_;
    r.duration = muxer_.duration_ns();
    r.first_frame_ntp = first_frame_ntp_;
    std::error_code ec;
    {
      std::lock_guard lock(mutex_);
      r.error = failure_;
    }
    if (!muxer_.started()) {
      // Nothing recorded: no file (a header alone is not a recording).
      std::filesystem::remove(part_path_, ec);
    } else if (!r.error.empty()) {
      // Failed mid-way: the .part file keeps the valid prefix (see muxer.hpp) and keeps its
      // name, so it never looks finished.
      r.path = part_path_;
    } else {
      std::filesystem::rename(part_path_, options_.final_path, ec);
      if (ec) {
        r.error = "recording: cannot rename " + part_path_.string() + ": " + ec.message();
        r.path = part_path_;
      } else {
        r.path = options_.final_path;
      }
    }
    if (!r.path.empty()) r.size = std::filesystem::file_size(r.path, ec);
    if (ec) r.size = 0;
    spdlog::info("egress {}: recorded {} frames, {} ms, {} bytes{}{}", options_.label, r.frames,
                 r.duration / 1'000'000, r.size, r.error.empty() ? "" : ", error: ", r.error);
    result_ = r;
    return r;
  }

 private:
  void run() {
    auto caught = guarded([this] {
      while (true) {
        bool stopping;
        {
          std::unique_lock lock(mutex_);
          wake_.wait_for(lock, kPollInterval, [this] { return stop_; });
          stopping = stop_;
        }
        drain();
        if (stopping) {
          assembler_.flush();
          break;
        }
        assembler_.poll(FrameAssembler::Clock::now());
        if (assembler_.take_keyframe_request()) tap_.request_keyframe();
      }
    });
    if (caught) set_failure("recording: " + caught->message);
  }

  void drain() {
    auto now = FrameAssembler::Clock::now();
    PacketRing& ring = tap_.ring();
    while (const PacketRing::Slot* slot = ring.front()) {
      std::span<const uint8_t> bytes(slot->bytes.data(), slot->size);
      if (slot->kind == PacketRing::Kind::kRtp) {
        assembler_.push(bytes, now);
      } else if (bytes.size() == 12) {
        uint64_t ntp = 0;
        uint32_t rtp = 0;
        for (int i = 0; i < 8; ++i) ntp = (ntp << 8) | bytes[i];
        for (int i = 8; i < 12; ++i) rtp = (rtp << 8) | bytes[i];
        on_sender_report(ntp, rtp);
      }
      ring.pop();
    }
  }

  void on_sender_report(uint64_t ntp, uint32_t rtp) {
    have_sr_ = true;
    sr_ntp_ = ntp;
    sr_rtp_ = rtp;
    if (muxer_.started() && first_frame_ntp_ == 0) compute_first_frame_ntp();
  }

  // NTP(ts) = sr.ntp + (ts - sr.rtp) / clock, the difference taken modulo 2^32 as a signed value.
  void compute_first_frame_ntp() {
    int32_t delta = static_cast<int32_t>(static_cast<uint32_t>(muxer_.first_timestamp()) - sr_rtp_);
    first_frame_ntp_ = ntp_to_unix_ns(sr_ntp_) + int64_t{delta} * 1'000'000'000 / options_.format.clock_rate;
  }

  void on_frame(const EncodedFrame& frame) override {
    bool was_started = muxer_.started();
    if (!muxer_.write(frame)) {
      if (!muxer_.error().empty()) set_failure(muxer_.error());
      return;
    }
    int64_t now = unix_now_ns();
    if (!was_started && muxer_.started()) {
      started_at_ = now;
      if (have_sr_) compute_first_frame_ntp();
    }
    ended_at_ = now;
    frames_.store(muxer_.frames(), std::memory_order_relaxed);
  }

  void set_failure(const std::string& reason) {
    std::lock_guard lock(mutex_);
    if (failure_.empty()) {
      failure_ = reason;
      spdlog::warn("egress {}: {}", options_.label, reason);
    }
  }

  const Options options_;
  const std::filesystem::path part_path_;
  Tap tap_;
  FrameAssembler assembler_;
  Muxer muxer_;
  std::thread thread_;

  mutable std::mutex mutex_;  // failure_, stop_ (control thread ↔ recorder thread; never the worker)
  std::condition_variable wake_;
  bool stop_ = false;
  std::string failure_;
  std::mutex finish_mutex_;
  std::optional<RecordingResult> result_;
  std::atomic<uint64_t> frames_{0};

  // Recorder thread only (read by finish() after the join).
  bool have_sr_ = false;
  uint64_t sr_ntp_ = 0;
  uint32_t sr_rtp_ = 0;
  int64_t first_frame_ntp_ = 0, started_at_ = 0, ended_at_ = 0;
};

}  // namespace

std::unique_ptr<TrackRecorder> TrackRecorder::start(Options options) {
  if (options.format.codec == rtc::Codec::kUnknown) throw BadInput("recording: unknown codec");
  if (options.final_path.empty()) throw BadInput("recording: no file name");
  if (options.ring_packets == 0) throw BadInput("recording: ring_packets must be > 0");
  resolve_container(options.container, options.format);  // BadInput before any file exists
  return std::make_unique<Recorder>(std::move(options));
}

}  // namespace parlor::egress
