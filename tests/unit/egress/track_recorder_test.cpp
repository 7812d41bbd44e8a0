// The recorder end to end: real VP8 / H.264 / Opus made by ffmpeg, packetized into RTP, fed
// through the tap (in order, reordered, with losses), then the file checked with ffprobe and
// decoded frame by frame by ffmpeg.
#include "egress/track_recorder.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <thread>

#include "common/errors.hpp"
#include "media_fixture.hpp"

namespace parlor::egress {
namespace {

using namespace std::chrono_literals;
using test::MediaFrame;
using test::RtpPacket;

constexpr uint32_t kSsrc = 0x11223344;

TrackFormat video_format(rtc::Codec codec) {
  TrackFormat f;
  f.codec = codec;
  f.video = true;
  f.payload_type = codec == rtc::Codec::kVp8 ? 96 : 102;
  f.clock_rate = 90000;
  return f;
}

TrackFormat opus_format(uint8_t red = 0) {
  TrackFormat f;
  f.codec = rtc::Codec::kOpus;
  f.payload_type = 111;
  f.red_payload_type = red;
  f.clock_rate = 48000;
  return f;
}

// Polls until `done` or the timeout: the recorder works on its own thread.
template <typename F>
bool eventually(F done, std::chrono::milliseconds timeout = 5s) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::vector<RtpPacket> packetize(const std::vector<MediaFrame>& frames, const TrackFormat& f, uint32_t ts0,
                                 uint16_t seq0) {
  std::vector<RtpPacket> packets;
  uint16_t seq = seq0;
  for (size_t i = 0; i < frames.size(); ++i) {
    MediaFrame frame = frames[i];
    frame.timestamp += ts0;  // wraps like a real stream's random start
    if (f.codec == rtc::Codec::kVp8) {
      auto p = test::packetize_vp8(frame, f.payload_type, kSsrc, seq, static_cast<uint16_t>(i & 0x7FFF));
      packets.insert(packets.end(), p.begin(), p.end());
    } else if (f.codec == rtc::Codec::kH264) {
      auto p = test::packetize_h264(frame, f.payload_type, kSsrc, seq);
      packets.insert(packets.end(), p.begin(), p.end());
    } else {
      MediaFrame prev;
      if (i > 0) {
        prev = frames[i - 1];
        prev.timestamp += ts0;
      }
      packets.push_back(test::packetize_opus(frame, i > 0 ? &prev : nullptr, f.payload_type, f.red_payload_type,
                                             kSsrc, seq));
    }
  }
  return packets;
}

// Feeds packets, keeping at most `ring / 2` in flight so the test never overruns the ring.
void feed(TrackRecorder& r, const std::vector<RtpPacket>& packets) {
  for (const auto& p : packets) {
    while (!r.tap().send_rtp(p.bytes)) std::this_thread::sleep_for(1ms);
  }
}

class TrackRecorderTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
};

TEST_F(TrackRecorderTest, Vp8ToWebm) {
  auto frames = test::read_frames(test::make_vp8("320x240", 2, 30), 90000);
  ASSERT_EQ(frames.size(), 60u);
  TrackRecorder::Options o;
  o.final_path = dir_ / "vp8.webm";
  o.format = video_format(rtc::Codec::kVp8);
  auto rec = TrackRecorder::start(o);
  EXPECT_TRUE(eventually([&] { return rec->tap().take_keyframe_request(); }));  // the file starts at one
  EXPECT_TRUE(std::filesystem::exists(dir_ / "vp8.webm.part"));
  feed(*rec, packetize(frames, o.format, 0xFFFF0000u, 65500));  // timestamps and sequence numbers wrap
  auto r = rec->finish();
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.path, o.final_path);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "vp8.webm.part"));
  EXPECT_EQ(r.frames, 60u);
  EXPECT_EQ(r.damaged_frames, 0u);
  EXPECT_NEAR(r.duration / 1e9, 2.0, 0.05);
  EXPECT_GT(r.started_at, 0);
  EXPECT_EQ(r.size, std::filesystem::file_size(o.final_path));
  auto p = test::probe(o.final_path);
  EXPECT_EQ(p.streams, 1);
  EXPECT_EQ(p.codecs["video"], "vp8");
  EXPECT_EQ(p.width, 320);
  EXPECT_EQ(p.height, 240);
  EXPECT_EQ(p.video_frames, 60);
  EXPECT_NEAR(p.duration, 2.0, 0.1);
  std::string errors;
  EXPECT_TRUE(test::decodes_cleanly(o.final_path, &errors)) << errors;
  EXPECT_EQ(rec->finish().path, r.path);  // idempotent
}

TEST_F(TrackRecorderTest, Vp8WithReorderingDuplicatesAndALossRecoversAtTheNextKeyframe) {
  auto frames = test::read_frames(test::make_vp8("320x240", 3, 30), 90000);
  ASSERT_EQ(frames.size(), 90u);
  TrackRecorder::Options o;
  o.final_path = dir_ / "lossy.webm";
  o.format = video_format(rtc::Codec::kVp8);
  auto rec = TrackRecorder::start(o);
  auto packets = packetize(frames, o.format, 1000, 1);
  // Swap neighbours every 7 packets, duplicate every 11th, and lose one packet of frame 40.
  for (size_t i = 0; i + 1 < packets.size(); i += 7) std::swap(packets[i], packets[i + 1]);
  std::vector<RtpPacket> sent;
  uint32_t lost_ts = 1000 + frames[40].timestamp;
  bool lost = false;
  for (size_t i = 0; i < packets.size(); ++i) {
    const auto& b = packets[i].bytes;
    uint32_t ts = (uint32_t{b[4]} << 24) | (b[5] << 16) | (b[6] << 8) | b[7];
    if (!lost && ts == lost_ts) {
      lost = true;
      continue;
    }
    sent.push_back(packets[i]);
    if (i % 11 == 0) sent.push_back(packets[i]);
  }
  ASSERT_TRUE(lost);
  rec->tap().take_keyframe_request();
  feed(*rec, sent);
  // The recorder gives up on the lost packet and asks for a keyframe.
  EXPECT_TRUE(eventually([&] { return rec->tap().take_keyframe_request(); }));
  auto r = rec->finish();
  ASSERT_EQ(r.error, "");
  // Frames 40..59 depend on the damaged one: dropped until the keyframe at 60.
  EXPECT_EQ(r.frames, 70u);
  // Frame 40 damaged (or, when it was a single packet, never seen), then 41..59.
  EXPECT_GE(r.damaged_frames, 19u);
  EXPECT_LE(r.damaged_frames, 20u);
  auto p = test::probe(o.final_path);
  EXPECT_EQ(p.video_frames, 70);
  EXPECT_NEAR(p.duration, 3.0, 0.1);
  std::string errors;
  EXPECT_TRUE(test::decodes_cleanly(o.final_path, &errors)) << errors;
}

TEST_F(TrackRecorderTest, H264ToMp4WithSenderReportTime) {
  auto frames = test::read_frames(test::make_h264("320x240", 2, 30), 90000);
  ASSERT_EQ(frames.size(), 60u);
  TrackRecorder::Options o;
  o.final_path = dir_ / "h264.mp4";
  o.format = video_format(rtc::Codec::kH264);
  auto rec = TrackRecorder::start(o);
  // A sender report 1 s before the first frame: NTP 2026-01-01T00:00:00Z.
  constexpr uint64_t kUnixSeconds = 1'767'225'600;
  rtc::rtcp::SenderInfo sr;
  sr.ntp_time = (kUnixSeconds + 2'208'988'800ull) << 32;
  sr.rtp_time = 5000u - 90000u;
  rec->tap().sender_report(sr);
  feed(*rec, packetize(frames, o.format, 5000, 100));
  auto r = rec->finish();
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.frames, 60u);
  EXPECT_EQ(r.first_frame_ntp, static_cast<int64_t>(kUnixSeconds + 1) * 1'000'000'000);
  auto p = test::probe(o.final_path);
  EXPECT_EQ(p.codecs["video"], "h264");
  EXPECT_EQ(p.width, 320);
  EXPECT_EQ(p.video_frames, 60);
  EXPECT_NEAR(p.duration, 2.0, 0.1);
  std::string errors;
  EXPECT_TRUE(test::decodes_cleanly(o.final_path, &errors)) << errors;
}

TEST_F(TrackRecorderTest, H264LossInsideAnFuADropsUntilTheNextIdr) {
  auto frames = test::read_frames(test::make_h264("640x480", 2, 30), 90000);
  TrackRecorder::Options o;
  o.final_path = dir_ / "h264-loss.mkv";
  o.container = Container::kMatroska;
  o.format = video_format(rtc::Codec::kH264);
  auto rec = TrackRecorder::start(o);
  auto packets = packetize(frames, o.format, 0, 0);
  // Lose the first packet of frame 10.
  uint32_t lost_ts = frames[10].timestamp;
  int seen = 0;
  std::vector<RtpPacket> sent;
  for (auto& p : packets) {
    uint32_t ts = (uint32_t{p.bytes[4]} << 24) | (p.bytes[5] << 16) | (p.bytes[6] << 8) | p.bytes[7];
    if (ts == lost_ts && ++seen == 1) continue;
    sent.push_back(p);
  }
  ASSERT_GE(seen, 1);
  feed(*rec, sent);
  auto r = rec->finish();
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.frames, 40u);  // 0..9 and 30..59
  std::string errors;
  EXPECT_TRUE(test::decodes_cleanly(o.final_path, &errors)) << errors;
  EXPECT_EQ(test::probe(o.final_path).video_frames, 40);
}

TEST_F(TrackRecorderTest, OpusToOgg) {
  auto frames = test::read_frames(test::make_opus(2, false), 48000);
  ASSERT_GE(frames.size(), 100u);
  TrackRecorder::Options o;
  o.final_path = dir_ / "audio.ogg";
  o.format = opus_format();
  auto rec = TrackRecorder::start(o);
  feed(*rec, packetize(frames, o.format, 123456, 9));
  auto r = rec->finish();
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.frames, frames.size());
  auto p = test::probe(o.final_path);
  EXPECT_EQ(p.codecs["audio"], "opus");
  EXPECT_NEAR(p.duration, 2.0, 0.1);
  std::string errors;
  EXPECT_TRUE(test::decodes_cleanly(o.final_path, &errors)) << errors;
}

TEST_F(TrackRecorderTest, OpusRedToWebmUsesThePrimaryBlocks) {
  auto frames = test::read_frames(test::make_opus(2, true), 48000);
  TrackRecorder::Options o;
  o.final_path = dir_ / "red.webm";
  o.format = opus_format(63);
  auto rec = TrackRecorder::start(o);
  auto packets = packetize(frames, o.format, 0, 0);
  packets.erase(packets.begin() + 20);  // a loss leaves a gap in audio, nothing else
  feed(*rec, packets);
  auto r = rec->finish();
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.frames, frames.size() - 1);
  auto p = test::probe(o.final_path);
  EXPECT_EQ(p.codecs["audio"], "opus");
  EXPECT_NEAR(p.duration, 2.0, 0.1);
  std::string errors;
  EXPECT_TRUE(test::decodes_cleanly(o.final_path, &errors)) << errors;
}

TEST_F(TrackRecorderTest, ADiskFullStopsTheRecordingWithItsReasonAndKeepsThePart) {
  // The .part file is /dev/full: every write fails with ENOSPC.
  std::filesystem::create_symlink("/dev/full", dir_ / "full.webm.part");
  TrackRecorder::Options o;
  o.final_path = dir_ / "full.webm";
  o.format = video_format(rtc::Codec::kVp8);
  auto rec = TrackRecorder::start(o);
  auto frames = test::read_frames(test::make_vp8("320x240", 2, 30), 90000);
  feed(*rec, packetize(frames, o.format, 0, 0));
  EXPECT_TRUE(eventually([&] { return rec->failure().has_value(); }));
  auto r = rec->finish();
  EXPECT_NE(r.error.find("No space left on device"), std::string::npos) << r.error;
  EXPECT_FALSE(std::filesystem::exists(o.final_path));  // never looks finished
  EXPECT_EQ(r.path, dir_ / "full.webm.part");
}

TEST_F(TrackRecorderTest, NothingReceivedLeavesNoFile) {
  TrackRecorder::Options o;
  o.final_path = dir_ / "empty.ogg";
  o.format = opus_format();
  auto rec = TrackRecorder::start(o);
  auto r = rec->finish();
  EXPECT_EQ(r.error, "");
  EXPECT_TRUE(r.path.empty());
  EXPECT_EQ(r.frames, 0u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "empty.ogg.part"));
}

TEST_F(TrackRecorderTest, BadStarts) {
  TrackRecorder::Options o;
  o.final_path = dir_ / "x.ogg";
  o.format = video_format(rtc::Codec::kH264);
  o.container = Container::kOgg;
  EXPECT_THROW(TrackRecorder::start(o), BadInput);
  o.container = Container::kWebm;
  EXPECT_THROW(TrackRecorder::start(o), BadInput);
  o.format = TrackFormat{};
  o.container = Container::kAuto;
  EXPECT_THROW(TrackRecorder::start(o), BadInput);
  o.format = opus_format();
  o.final_path = dir_ / "no-such-dir" / "x.ogg";
  EXPECT_THROW(TrackRecorder::start(o), InternalError);
}

TEST_F(TrackRecorderTest, AFullRingDropsAndCounts) {
  TrackRecorder::Options o;
  o.final_path = dir_ / "ring.ogg";
  o.format = opus_format();
  o.ring_packets = 4;
  auto rec = TrackRecorder::start(o);
  std::vector<uint8_t> big(rtc::UdpSocket::kMaxDatagram + 1, 0);
  EXPECT_FALSE(rec->tap().send_rtp(big));  // larger than a slot
  auto r = rec->finish();
  EXPECT_EQ(r.dropped_packets, 1u);
}

// Cost per second of media at a 720p VP8 bitrate (fed as fast as the recorder drains it). Only
// with PARLOR_RECORDER_BENCH_SECONDS=N: making N seconds of 720p VP8 takes ffmpeg a while.
TEST_F(TrackRecorderTest, MeasureVp8At720p) {
  const char* env = std::getenv("PARLOR_RECORDER_BENCH_SECONDS");
  if (!env) GTEST_SKIP() << "set PARLOR_RECORDER_BENCH_SECONDS to measure";
  int seconds = std::max(1, std::atoi(env));
  auto frames = test::read_frames(test::make_vp8("1280x720", seconds, 90, 1500), 90000);
  TrackRecorder::Options o;
  o.final_path = dir_ / "720p.webm";
  o.format = video_format(rtc::Codec::kVp8);
  auto packets = packetize(frames, o.format, 0, 0);
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  auto t0 = std::chrono::steady_clock::now();
  auto rec = TrackRecorder::start(o);
  feed(*rec, packets);
  auto r = rec->finish();
  auto wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  getrusage(RUSAGE_SELF, &after);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.frames, frames.size());
  double cpu = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) + (after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e6 +
               (after.ru_stime.tv_sec - before.ru_stime.tv_sec) + (after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;
  std::printf("[measure] VP8 720p %d s, %zu packets, %.0f kbit/s: wall %.3f s, cpu %.3f s (%.2f ms cpu per s of media), "
              "file %llu bytes (%.2f MB/min), max RSS %ld KiB\n",
              seconds, packets.size(), r.size * 8.0 / seconds / 1000, wall, cpu, cpu * 1000 / seconds,
              static_cast<unsigned long long>(r.size), r.size / 1e6 * 60 / seconds, after.ru_maxrss);
}

}  // namespace
}  // namespace parlor::egress
