#pragma once
// Test media for the recorder tests: real encoded VP8, H.264 and Opus made by the ffmpeg CLI,
// read back frame by frame with libavformat, and packetized into RTP the way a WebRTC sender
// does (RFC 7741, RFC 6184 mode 1, RFC 7587, RFC 2198). Plus ffprobe / ffmpeg checks of results.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <stdexcept>
#include <span>

extern "C" {
#include <libavformat/avformat.h>
}
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace parlor::egress::test {

struct MediaFrame {
  std::vector<uint8_t> data;  // VP8 frame, H.264 access unit (Annex-B) or Opus packet
  uint32_t timestamp = 0;     // RTP timestamp (90 kHz video, 48 kHz audio), from 0
  bool keyframe = false;
};

struct RtpPacket {
  std::vector<uint8_t> bytes;
};

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("parlor-egress-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    if (!std::getenv("PARLOR_KEEP_TEST_FILES")) std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Runs a shell command; returns the exit status and fills `output` with stdout+stderr.
int run_command(const std::string& command, std::string* output = nullptr);

// Generated media files, made once per test binary (cached in a temp dir), `seconds` long.
// VP8 in IVF (keyframe every `gop` frames, 30 fps), H.264 Annex-B baseline (30 fps), Opus in Ogg
// (20 ms packets). `size` like "320x240".
std::filesystem::path make_vp8(const std::string& size, int seconds, int gop, int bitrate_kbps = 300);
std::filesystem::path make_h264(const std::string& size, int seconds, int gop);
std::filesystem::path make_opus(int seconds, bool stereo);

// Every frame of the file's first stream, timestamps rebased to 0 in the RTP clock.
std::vector<MediaFrame> read_frames(const std::filesystem::path& file, uint32_t clock_rate);

// RTP packetizers. Sequence numbers continue from `seq` (updated); `max_payload` bytes of payload.
std::vector<RtpPacket> packetize_vp8(const MediaFrame& f, uint8_t pt, uint32_t ssrc, uint16_t& seq,
                                     uint16_t picture_id, size_t max_payload = 1100);
std::vector<RtpPacket> packetize_h264(const MediaFrame& f, uint8_t pt, uint32_t ssrc, uint16_t& seq,
                                      size_t max_payload = 1100);
// With red_pt != 0: RED with the previous packet as the redundant block (if given).
RtpPacket packetize_opus(const MediaFrame& f, const MediaFrame* previous, uint8_t pt, uint8_t red_pt,
                         uint32_t ssrc, uint16_t& seq);
std::vector<uint8_t> rtp_header(bool marker, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc);

// ffprobe of a file: "codec_type" → "codec_name" for each stream (video/audio), format duration,
// width/height of the video stream.
struct Probe {
  std::map<std::string, std::string> codecs;  // codec_type → codec_name
  int streams = 0;
  double duration = 0;
  int width = 0, height = 0;
  int video_frames = 0;  // counted by decoding (ffprobe -count_frames)
};
Probe probe(const std::filesystem::path& file);
// `ffmpeg -v error -xerror -i F -f null -` succeeds and prints nothing: every frame decodes.
bool decodes_cleanly(const std::filesystem::path& file, std::string* errors = nullptr);


// ---- implementation (header-only: the unit test CMake compiles *_test.cpp files only) ----

inline int run_command(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  int status = pclose(pipe);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline const std::filesystem::path& media_dir() {
  static TempDir dir;  // lives for the test binary
  return dir.path();
}

inline std::filesystem::path generate(const std::string& name, const std::string& args) {
  auto path = media_dir() / name;
  if (std::filesystem::exists(path)) return path;
  std::string out;
  std::string cmd = "ffmpeg -nostdin -hide_banner -v error -y " + args + " '" + path.string() + "'";
  if (run_command(cmd, &out) != 0) throw std::runtime_error("ffmpeg failed: " + cmd + "\n" + out);
  return path;
}

inline std::filesystem::path make_vp8(const std::string& size, int seconds, int gop, int bitrate_kbps) {
  return generate("vp8-" + size + "-" + std::to_string(seconds) + "-" + std::to_string(gop) + "-" +
                      std::to_string(bitrate_kbps) + ".ivf",
                  "-f lavfi -i testsrc=size=" + size + ":rate=30 -t " + std::to_string(seconds) +
                      " -c:v libvpx -deadline realtime -cpu-used 8 -b:v " + std::to_string(bitrate_kbps) +
                      "k -g " + std::to_string(gop) + " -keyint_min " + std::to_string(gop) + " -auto-alt-ref 0 -f ivf");
}

inline std::filesystem::path make_h264(const std::string& size, int seconds, int gop) {
  return generate("h264-" + size + "-" + std::to_string(seconds) + "-" + std::to_string(gop) + ".h264",
                  "-f lavfi -i testsrc=size=" + size + ":rate=30 -t " + std::to_string(seconds) +
                      " -c:v libx264 -profile:v baseline -preset ultrafast -bf 0 -g " + std::to_string(gop) +
                      " -pix_fmt yuv420p -bsf:v h264_mp4toannexb -f h264");
}

inline std::filesystem::path make_opus(int seconds, bool stereo) {
  return generate("opus-" + std::to_string(seconds) + (stereo ? "-stereo" : "-mono") + ".ogg",
                  "-f lavfi -i sine=frequency=440:sample_rate=48000 -t " + std::to_string(seconds) + " -ac " +
                      (stereo ? "2" : "1") + " -c:a libopus -b:a 48k -frame_duration 20 -f ogg");
}

inline std::vector<MediaFrame> read_frames(const std::filesystem::path& file, uint32_t clock_rate) {
  AVFormatContext* ctx = nullptr;
  if (avformat_open_input(&ctx, file.c_str(), nullptr, nullptr) < 0) throw std::runtime_error("open " + file.string());
  avformat_find_stream_info(ctx, nullptr);
  std::vector<MediaFrame> frames;
  AVPacket* pkt = av_packet_alloc();
  int64_t first = AV_NOPTS_VALUE;
  bool video = ctx->streams[0]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO;
  while (av_read_frame(ctx, pkt) >= 0) {
    if (pkt->stream_index != 0) {
      av_packet_unref(pkt);
      continue;
    }
    MediaFrame f;
    f.data.assign(pkt->data, pkt->data + pkt->size);
    f.keyframe = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    if (video) {
      // Raw H.264 has no timestamps: 30 fps, as generated.
      f.timestamp = static_cast<uint32_t>(frames.size() * (clock_rate / 30));
    } else {
      int64_t pts = pkt->pts;
      if (first == AV_NOPTS_VALUE) first = pts;
      f.timestamp = static_cast<uint32_t>(
          av_rescale_q(pts - first, ctx->streams[0]->time_base, AVRational{1, static_cast<int>(clock_rate)}));
    }
    frames.push_back(std::move(f));
    av_packet_unref(pkt);
  }
  av_packet_free(&pkt);
  avformat_close_input(&ctx);
  return frames;
}

inline std::vector<uint8_t> rtp_header(bool marker, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc) {
  return {0x80,
          static_cast<uint8_t>((marker ? 0x80 : 0) | pt),
          static_cast<uint8_t>(seq >> 8),
          static_cast<uint8_t>(seq),
          static_cast<uint8_t>(ts >> 24),
          static_cast<uint8_t>(ts >> 16),
          static_cast<uint8_t>(ts >> 8),
          static_cast<uint8_t>(ts),
          static_cast<uint8_t>(ssrc >> 24),
          static_cast<uint8_t>(ssrc >> 16),
          static_cast<uint8_t>(ssrc >> 8),
          static_cast<uint8_t>(ssrc)};
}

inline std::vector<RtpPacket> packetize_vp8(const MediaFrame& f, uint8_t pt, uint32_t ssrc, uint16_t& seq,
                                            uint16_t picture_id, size_t max_payload) {
  // Descriptor: X=1, S on the first packet, PID 0; I=1 with a 15-bit picture id (RFC 7741 §4.2).
  std::vector<RtpPacket> out;
  size_t pos = 0;
  const size_t descriptor = 4;
  while (pos < f.data.size()) {
    size_t n = std::min(max_payload - descriptor, f.data.size() - pos);
    bool last = pos + n == f.data.size();
    RtpPacket p;
    p.bytes = rtp_header(last, pt, seq++, f.timestamp, ssrc);
    p.bytes.push_back(static_cast<uint8_t>(0x80 | (pos == 0 ? 0x10 : 0)));
    p.bytes.push_back(0x80);
    p.bytes.push_back(static_cast<uint8_t>(0x80 | ((picture_id >> 8) & 0x7F)));
    p.bytes.push_back(static_cast<uint8_t>(picture_id));
    p.bytes.insert(p.bytes.end(), f.data.begin() + pos, f.data.begin() + pos + n);
    out.push_back(std::move(p));
    pos += n;
  }
  return out;
}

// NAL units of an Annex-B access unit (without start codes).
inline std::vector<std::span<const uint8_t>> split_annexb(const std::vector<uint8_t>& au) {
  std::vector<std::span<const uint8_t>> nals;
  size_t i = 0, start = std::string::npos;
  auto is_start = [&](size_t k, size_t& len) {
    if (k + 3 <= au.size() && au[k] == 0 && au[k + 1] == 0 && au[k + 2] == 1) { len = 3; return true; }
    if (k + 4 <= au.size() && au[k] == 0 && au[k + 1] == 0 && au[k + 2] == 0 && au[k + 3] == 1) { len = 4; return true; }
    return false;
  };
  while (i < au.size()) {
    size_t len = 0;
    if (is_start(i, len)) {
      if (start != std::string::npos) {
        size_t end = i;
        nals.emplace_back(au.data() + start, end - start);
      }
      i += len;
      start = i;
    } else {
      ++i;
    }
  }
  if (start != std::string::npos && start < au.size()) nals.emplace_back(au.data() + start, au.size() - start);
  return nals;
}

inline std::vector<RtpPacket> packetize_h264(const MediaFrame& f, uint8_t pt, uint32_t ssrc, uint16_t& seq,
                                             size_t max_payload) {
  auto nals = split_annexb(f.data);
  std::vector<RtpPacket> out;
  size_t i = 0;
  while (i < nals.size()) {
    // Aggregate small NAL units (SPS, PPS, SEI) into one STAP-A (RFC 6184 §5.7.1).
    size_t j = i, total = 1;
    while (j < nals.size() && nals[j].size() < 200 && total + 2 + nals[j].size() <= max_payload) {
      total += 2 + nals[j].size();
      ++j;
    }
    if (j - i >= 2) {
      RtpPacket p;
      p.bytes = rtp_header(j == nals.size(), pt, seq++, f.timestamp, ssrc);
      uint8_t nri = 0;
      for (size_t k = i; k < j; ++k) nri = std::max<uint8_t>(nri, nals[k][0] & 0x60);
      p.bytes.push_back(static_cast<uint8_t>(nri | 24));
      for (size_t k = i; k < j; ++k) {
        p.bytes.push_back(static_cast<uint8_t>(nals[k].size() >> 8));
        p.bytes.push_back(static_cast<uint8_t>(nals[k].size()));
        p.bytes.insert(p.bytes.end(), nals[k].begin(), nals[k].end());
      }
      out.push_back(std::move(p));
      i = j;
      continue;
    }
    auto nal = nals[i];
    bool last_nal = i + 1 == nals.size();
    if (nal.size() <= max_payload) {
      RtpPacket p;
      p.bytes = rtp_header(last_nal, pt, seq++, f.timestamp, ssrc);
      p.bytes.insert(p.bytes.end(), nal.begin(), nal.end());
      out.push_back(std::move(p));
    } else {
      // FU-A (§5.8): the NAL header's F/NRI in the indicator, its type in the FU header.
      size_t pos = 1;
      while (pos < nal.size()) {
        size_t n = std::min(max_payload - 2, nal.size() - pos);
        bool first = pos == 1, end = pos + n == nal.size();
        RtpPacket p;
        p.bytes = rtp_header(end && last_nal, pt, seq++, f.timestamp, ssrc);
        p.bytes.push_back(static_cast<uint8_t>((nal[0] & 0xE0) | 28));
        p.bytes.push_back(static_cast<uint8_t>((first ? 0x80 : 0) | (end ? 0x40 : 0) | (nal[0] & 0x1F)));
        p.bytes.insert(p.bytes.end(), nal.begin() + pos, nal.begin() + pos + n);
        out.push_back(std::move(p));
        pos += n;
      }
    }
    ++i;
  }
  return out;
}

inline RtpPacket packetize_opus(const MediaFrame& f, const MediaFrame* previous, uint8_t pt, uint8_t red_pt,
                                uint32_t ssrc, uint16_t& seq) {
  RtpPacket p;
  p.bytes = rtp_header(false, red_pt ? red_pt : pt, seq++, f.timestamp, ssrc);
  if (red_pt) {
    if (previous) {
      // F=1, block PT, 14-bit timestamp offset, 10-bit length (RFC 2198 §3).
      uint32_t offset = f.timestamp - previous->timestamp;
      size_t len = previous->data.size();
      p.bytes.push_back(static_cast<uint8_t>(0x80 | pt));
      p.bytes.push_back(static_cast<uint8_t>(offset >> 6));
      p.bytes.push_back(static_cast<uint8_t>(((offset & 0x3F) << 2) | (len >> 8)));
      p.bytes.push_back(static_cast<uint8_t>(len));
    }
    p.bytes.push_back(pt);
    if (previous) p.bytes.insert(p.bytes.end(), previous->data.begin(), previous->data.end());
  }
  p.bytes.insert(p.bytes.end(), f.data.begin(), f.data.end());
  return p;
}

inline Probe probe(const std::filesystem::path& file) {
  Probe result;
  std::string out;
  run_command("ffprobe -v error -count_frames -show_entries "
              "stream=codec_type,codec_name,width,height,nb_read_frames:format=duration -of default=nw=1 '" +
                  file.string() + "'",
              &out);
  std::istringstream lines(out);
  std::string line, type;
  while (std::getline(lines, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "codec_name") {
      ++result.streams;
      type.clear();
      result.codecs["pending"] = value;
    } else if (key == "codec_type") {
      type = value;
      result.codecs[type] = result.codecs["pending"];
      result.codecs.erase("pending");
    } else if (key == "width" && value != "N/A") {
      result.width = std::atoi(value.c_str());
    } else if (key == "height" && value != "N/A") {
      result.height = std::atoi(value.c_str());
    } else if (key == "nb_read_frames" && type == "video") {
      result.video_frames = std::atoi(value.c_str());
    } else if (key == "duration" && value != "N/A") {
      result.duration = std::atof(value.c_str());
    }
  }
  return result;
}

inline bool decodes_cleanly(const std::filesystem::path& file, std::string* errors) {
  std::string out;
  int rc = run_command("ffmpeg -nostdin -v error -xerror -i '" + file.string() + "' -f null -", &out);
  if (errors) *errors = out;
  return rc == 0 && out.empty();
}

}  // namespace parlor::egress::test
