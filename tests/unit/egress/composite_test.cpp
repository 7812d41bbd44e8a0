// The composite from real recordings: two participants, each a VP8 track and an Opus track
// recorded by TrackRecorder, the second joining a second later, composed into one MP4 (and WebM).
#include "egress/composite.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <thread>

#include "media_fixture.hpp"

namespace parlor::egress {
namespace {

using test::MediaFrame;

constexpr int64_t kSecond = 1'000'000'000;

// Records `frames` through a TrackRecorder into `path`; returns the finished file.
std::filesystem::path record(const std::vector<MediaFrame>& frames, const TrackFormat& format,
                             const std::filesystem::path& path) {
  TrackRecorder::Options o;
  o.final_path = path;
  o.format = format;
  o.ring_packets = 8192;
  auto rec = TrackRecorder::start(o);
  uint16_t seq = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    std::vector<test::RtpPacket> packets;
    if (format.video) {
      packets = test::packetize_vp8(frames[i], format.payload_type, 0x42, seq, static_cast<uint16_t>(i));
    } else {
      packets.push_back(test::packetize_opus(frames[i], nullptr, format.payload_type, 0, 0x43, seq));
    }
    for (const auto& p : packets) {
      while (!rec->tap().send_rtp(p.bytes)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  auto r = rec->finish();
  if (!r.error.empty()) throw std::runtime_error(r.error);
  return r.path;
}

class CompositeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    int seconds = std::getenv("PARLOR_COMPOSITE_BENCH_SECONDS") ? std::atoi(std::getenv("PARLOR_COMPOSITE_BENCH_SECONDS")) : 2;
    seconds_ = seconds;
    TrackFormat vp8;
    vp8.codec = rtc::Codec::kVp8;
    vp8.video = true;
    vp8.payload_type = 96;
    vp8.clock_rate = 90000;
    TrackFormat opus;
    opus.codec = rtc::Codec::kOpus;
    opus.payload_type = 111;
    opus.clock_rate = 48000;
    auto video = test::read_frames(test::make_vp8("640x480", seconds, 60, 800), 90000);
    auto audio = test::read_frames(test::make_opus(seconds, false), 48000);
    for (const char* who : {"alice", "bob"}) {
      inputs_.push_back({record(video, vp8, dir() / (std::string(who) + ".webm")), true, who, 0});
      inputs_.push_back({record(audio, opus, dir() / (std::string(who) + ".ogg")), false, who, 0});
    }
    // Bob joins a second after the recording began.
    inputs_[2].offset = inputs_[3].offset = kSecond;
  }
  static const std::filesystem::path& dir() {
    static test::TempDir d;
    return d.path();
  }
  static inline std::vector<CompositeInput> inputs_;
  static inline int seconds_ = 2;
};

TEST_F(CompositeTest, TwoParticipantsSideBySideToMp4) {
  CompositeOptions o;
  o.inputs = inputs_;
  o.final_path = dir() / "room.mp4";
  bool bench = std::getenv("PARLOR_COMPOSITE_BENCH_SECONDS") != nullptr;
  o.width = bench ? 1280 : 640;  // the default size when measuring
  o.height = bench ? 720 : 360;
  rusage before{}, after{};
  getrusage(RUSAGE_CHILDREN, &before);
  auto t0 = std::chrono::steady_clock::now();
  auto r = composite(o);
  getrusage(RUSAGE_CHILDREN, &after);
  double cpu = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) + (after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e6 +
               (after.ru_stime.tv_sec - before.ru_stime.tv_sec) + (after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.path, o.final_path);
  EXPECT_FALSE(std::filesystem::exists(dir() / "room.mp4.part"));
  auto p = test::probe(o.final_path);
  EXPECT_EQ(p.streams, 2);
  EXPECT_EQ(p.codecs["video"], "h264");
  EXPECT_EQ(p.codecs["audio"], "aac");
  EXPECT_EQ(p.width, o.width);
  EXPECT_EQ(p.height, o.height);
  double expected = seconds_ + 1.0;  // the longest input: bob's, one second late
  EXPECT_NEAR(p.duration, expected, 0.2);
  EXPECT_NEAR(r.duration / 1e9, expected, 0.2);
  EXPECT_EQ(r.size, std::filesystem::file_size(o.final_path));
  std::string errors;
  EXPECT_TRUE(test::decodes_cleanly(o.final_path, &errors)) << errors;
  std::printf("[measure] composite MP4 %dx%d of %.1f s two-party media: %.2f s wall (%.1f s per minute), "
              "ffmpeg cpu %.2f s (%.1f s per minute), max RSS of a child %ld KiB, %llu bytes (%.2f MB/min)\n",
              o.width, o.height, expected, wall, wall * 60 / expected, cpu, cpu * 60 / expected, after.ru_maxrss, static_cast<unsigned long long>(r.size), r.size / 1e6 * 60 / expected);
}

TEST_F(CompositeTest, WebmWithAFixedDuration) {
  CompositeOptions o;
  o.inputs = inputs_;
  o.final_path = dir() / "room.webm";
  o.container = Container::kWebm;
  o.width = 320;
  o.height = 180;
  o.duration = kSecond * 3 / 2;
  auto r = composite(o);
  ASSERT_EQ(r.error, "");
  auto p = test::probe(o.final_path);
  EXPECT_EQ(p.codecs["video"], "vp8");
  EXPECT_EQ(p.codecs["audio"], "opus");
  EXPECT_NEAR(p.duration, 1.5, 0.15);
  std::string errors;
  EXPECT_TRUE(test::decodes_cleanly(o.final_path, &errors)) << errors;
}

TEST_F(CompositeTest, AudioOnly) {
  CompositeOptions o;
  o.inputs = inputs_;
  o.final_path = dir() / "audio.mp4";
  o.audio_only = true;
  auto r = composite(o);
  ASSERT_EQ(r.error, "");
  auto p = test::probe(o.final_path);
  EXPECT_EQ(p.streams, 1);
  EXPECT_EQ(p.codecs["audio"], "aac");
}

TEST_F(CompositeTest, ErrorsLeaveNoFile) {
  CompositeOptions o;
  o.inputs = inputs_;
  o.inputs.push_back({dir() / "missing.webm", true, "carol", 0});
  o.final_path = dir() / "bad.mp4";
  auto r = composite(o);
  EXPECT_NE(r.error.find("cannot read"), std::string::npos) << r.error;
  EXPECT_FALSE(std::filesystem::exists(o.final_path));

  o.inputs = inputs_;
  o.width = 641;
  EXPECT_NE(composite(o).error.find("even"), std::string::npos);

  o.width = 640;
  o.ffmpeg = "/nonexistent/ffmpeg";
  r = composite(o);
  EXPECT_NE(r.error.find("cannot run"), std::string::npos) << r.error;
  EXPECT_FALSE(std::filesystem::exists(dir() / "bad.mp4.part"));
}

TEST_F(CompositeTest, CancelKillsTheRun) {
  CompositeOptions o;
  o.inputs = inputs_;
  o.final_path = dir() / "cancelled.mp4";
  std::atomic<bool> cancel{true};
  o.cancel = &cancel;
  auto r = composite(o);
  EXPECT_EQ(r.error, "composite: cancelled");
  EXPECT_FALSE(std::filesystem::exists(o.final_path));
  EXPECT_FALSE(std::filesystem::exists(dir() / "cancelled.mp4.part"));
}

}  // namespace
}  // namespace parlor::egress
