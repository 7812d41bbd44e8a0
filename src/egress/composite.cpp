#include "egress/composite.hpp"

extern "C" {
#include <libavformat/avformat.h>
}

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <system_error>

#include "common/boundary.hpp"
#include "egress/child_process.hpp"

namespace parlor::egress {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

std::string seconds(int64_t ns) {
  return std::to_string(ns / kNsPerSecond) + "." + fmt::format("{:06d}", (ns % kNsPerSecond) / 1000);
}

int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Placed {
  const CompositeInput* input;
  int index;  // ffmpeg input number
};

// The filter graph and the output options for ffmpeg; see composite.hpp.
std::vector<std::string> build_command(const CompositeOptions& o, const std::vector<Placed>& videos,
                                       const std::vector<Placed>& audios, int64_t duration,
                                       const std::filesystem::path& out) {
  std::vector<std::string> argv = {o.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y"};
  // Inputs are added in the order of their index (videos first, then audios).
  std::vector<std::pair<int, const CompositeInput*>> by_index;
  for (const auto& p : videos) by_index.emplace_back(p.index, p.input);
  for (const auto& p : audios) by_index.emplace_back(p.index, p.input);
  std::sort(by_index.begin(), by_index.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (const auto& [i, input] : by_index) {
    argv.push_back("-i");
    argv.push_back(input->path.string());
  }

  std::string graph;
  bool with_video = !o.audio_only;
  bool with_audio = !o.video_only;
  std::string dur = seconds(duration);
  if (with_video) {
    // One cell per participant (in identity order), so a participant who republished stays put.
    std::map<std::string, int> cells;
    for (const auto& p : videos) cells.emplace(p.input->participant, 0);
    int n = 0;
    for (auto& [name, cell] : cells) cell = n++;
    int cols = n <= 1 ? 1 : static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
    int rows = n <= 1 ? 1 : (n + cols - 1) / cols;
    int cw = (o.width / cols) & ~1, ch = (o.height / rows) & ~1;
    graph += fmt::format("color=c=black:s={}x{}:r={}:d={}[bg0];", o.width, o.height, o.framerate, dur);
    int k = 0;
    for (const auto& p : videos) {
      int cell = cells[p.input->participant];
      int x = (cell % cols) * (o.width / cols) + ((o.width / cols) - cw) / 2;
      // The last row is centred when it is not full.
      int row = cell / cols;
      int in_row = std::min(cols, n - row * cols);
      x += (cols - in_row) * (o.width / cols) / 2;
      int y = row * (o.height / rows) + ((o.height / rows) - ch) / 2;
      graph += fmt::format(
          "[{}:v]setpts=PTS-STARTPTS+{}/TB,scale={}:{}:force_original_aspect_ratio=decrease,"
          "pad={}:{}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1[v{}];",
          p.index, seconds(p.input->offset), cw, ch, cw, ch, k);
      graph += fmt::format("[bg{}][v{}]overlay=x={}:y={}:eof_action=pass:repeatlast=0[bg{}];", k, k, x, y, k + 1);
      ++k;
    }
    graph += fmt::format("[bg{}]format=yuv420p[vout];", k);
  }
  if (with_audio) {
    if (audios.empty()) {
      graph += fmt::format("anullsrc=r=48000:cl=stereo,atrim=duration={}[aout];", dur);
    } else {
      int k = 0;
      for (const auto& p : audios) {
        int64_t delay_ms = p.input->offset / 1'000'000;
        graph += fmt::format("[{}:a]asetpts=PTS-STARTPTS,aresample=48000,aformat=channel_layouts=stereo,"
                             "adelay=delays={}:all=1[a{}];",
                             p.index, delay_ms, k);
        ++k;
      }
      for (int i = 0; i < k; ++i) graph += fmt::format("[a{}]", i);
      if (k > 1)
        graph += fmt::format("amix=inputs={}:duration=longest:normalize=0,", k);
      else
        graph += "anull,";
      graph += "apad[aout];";
    }
  }
  if (!graph.empty()) graph.pop_back();  // the last ';'
  argv.push_back("-filter_complex");
  argv.push_back(graph);
  if (with_video) {
    argv.insert(argv.end(), {"-map", "[vout]"});
    if (o.container == Container::kWebm)
      argv.insert(argv.end(), {"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1500k"});
    else
      argv.insert(argv.end(), {"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"});
    argv.insert(argv.end(), {"-r", std::to_string(o.framerate)});
  }
  if (with_audio) {
    argv.insert(argv.end(), {"-map", "[aout]"});
    if (o.container == Container::kWebm)
      argv.insert(argv.end(), {"-c:a", "libopus", "-b:a", "96k"});
    else
      argv.insert(argv.end(), {"-c:a", "aac", "-b:a", "128k"});
  }
  argv.insert(argv.end(), {"-t", dur});
  if (o.container == Container::kWebm)
    argv.insert(argv.end(), {"-f", "webm"});
  else
    argv.insert(argv.end(), {"-movflags", "+faststart", "-f", "mp4"});
  argv.push_back(out.string());
  return argv;
}

RecordingResult run(const CompositeOptions& o) {
  RecordingResult result;
  if (o.container != Container::kMp4 && o.container != Container::kWebm) {
    result.error = "composite: the container must be MP4 or WebM";
    return result;
  }
  if (o.width < 16 || o.height < 16 || o.width > 4096 || o.height > 4096 || o.width % 2 || o.height % 2) {
    result.error = "composite: width and height must be even, 16 to 4096";
    return result;
  }
  if (o.framerate < 1 || o.framerate > 60) {
    result.error = "composite: framerate must be 1 to 60";
    return result;
  }
  if (o.audio_only && o.video_only) {
    result.error = "composite: audio_only and video_only exclude each other";
    return result;
  }
  if (o.final_path.empty()) {
    result.error = "composite: no file name";
    return result;
  }
  std::vector<Placed> videos, audios;
  int64_t longest = 0;
  int index = 0;
  std::vector<const CompositeInput*> ordered;
  for (const auto& in : o.inputs) ordered.push_back(&in);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](auto* a, auto* b) { return a->participant < b->participant; });
  for (int pass = 0; pass < 2; ++pass) {  // videos get the low input numbers
    for (const CompositeInput* in : ordered) {
      if (in->video != (pass == 0)) continue;
      if ((in->video && o.audio_only) || (!in->video && o.video_only)) continue;
      if (in->offset < 0) {
        result.error = "composite: negative offset for " + in->path.string();
        return result;
      }
      int64_t d = media_duration(in->path);
      if (d <= 0) {
        result.error = "composite: cannot read " + in->path.string();
        return result;
      }
      longest = std::max(longest, in->offset + d);
      (in->video ? videos : audios).push_back(Placed{in, index++});
    }
  }
  if (videos.empty() && audios.empty()) {
    result.error = "composite: no input to compose";
    return result;
  }
  int64_t duration = o.duration > 0 ? o.duration : longest;
  auto part = std::filesystem::path(o.final_path.string() + ".part");
  auto argv = build_command(o, videos, audios, duration, part);
  auto timeout = o.timeout > 0 ? std::chrono::milliseconds(o.timeout / 1'000'000)
                               : std::chrono::milliseconds(120'000 + 10 * duration / 1'000'000);
  result.started_at = unix_now_ns();
  auto child = run_child(argv, timeout, o.cancel);
  result.ended_at = unix_now_ns();
  std::error_code ec;
  if (!child.error.empty()) {
    std::filesystem::remove(part, ec);
    std::string tail = child.stderr_tail;
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
    if (auto nl = tail.rfind('\n'); nl != std::string::npos && tail.size() - nl > 1) tail = tail.substr(nl + 1);
    result.error = "composite: " + child.error + (tail.empty() ? "" : ": " + tail);
    return result;
  }
  std::filesystem::rename(part, o.final_path, ec);
  if (ec) {
    std::filesystem::remove(part, ec);
    result.error = "composite: cannot rename to " + o.final_path.string() + ": " + ec.message();
    return result;
  }
  result.path = o.final_path;
  result.size = std::filesystem::file_size(o.final_path, ec);
  result.duration = media_duration(o.final_path);
  result.frames = videos.size() + audios.size();
  spdlog::info("composite {}: {} inputs, {} ms of media in {} ms, {} bytes", o.final_path.string(), result.frames,
               result.duration / 1'000'000, (result.ended_at - result.started_at) / 1'000'000, result.size);
  return result;
}

}  // namespace

int64_t media_duration(const std::filesystem::path& path) {
  AVFormatContext* ctx = nullptr;
  if (avformat_open_input(&ctx, path.c_str(), nullptr, nullptr) < 0) return 0;
  int64_t ns = 0;
  if (avformat_find_stream_info(ctx, nullptr) >= 0) {
    if (ctx->duration != AV_NOPTS_VALUE && ctx->duration > 0) {
      ns = av_rescale(ctx->duration, kNsPerSecond, AV_TIME_BASE);
    } else {
      // No duration in the headers (a live-written file): the end of the last packet.
      AVPacket* pkt = av_packet_alloc();
      int64_t start = INT64_MAX, end = 0;
      while (pkt && av_read_frame(ctx, pkt) >= 0) {
        AVStream* st = ctx->streams[pkt->stream_index];
        if (pkt->pts != AV_NOPTS_VALUE) {
          int64_t s = av_rescale_q(pkt->pts, st->time_base, AVRational{1, 1'000'000'000});
          int64_t e = av_rescale_q(pkt->pts + pkt->duration, st->time_base, AVRational{1, 1'000'000'000});
          start = std::min(start, s);
          end = std::max(end, e);
        }
        av_packet_unref(pkt);
      }
      av_packet_free(&pkt);
      if (start != INT64_MAX && end > start) ns = end - start;
    }
  }
  avformat_close_input(&ctx);
  return ns;
}

RecordingResult composite(const CompositeOptions& options) {
  RecordingResult result;
  auto caught = guarded([&] { result = run(options); });
  if (caught) result.error = "composite: " + caught->message;
  return result;
}

}  // namespace parlor::egress
