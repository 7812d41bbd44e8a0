#include "egress/muxer.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
}

#include <cstring>

#include "common/errors.hpp"

namespace parlor::egress {
namespace {

std::string av_error_text(int averror) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(averror, text, sizeof(text));
  return text;
}

const char* format_name(Container c) {
  switch (c) {
    case Container::kWebm: return "webm";
    case Container::kMp4: return "mp4";
    case Container::kOgg: return "ogg";
    default: return "matroska";
  }
}

// The picture size of an H.264 keyframe, from its SPS, by libavcodec's parser (whole access units
// in, so it needs no look-ahead).
bool h264_picture_size(std::span<const uint8_t> access_unit, int& width, int& height) {
  AVCodecParserContext* parser = av_parser_init(AV_CODEC_ID_H264);
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_H264);
  AVCodecContext* cc = codec ? avcodec_alloc_context3(codec) : nullptr;
  bool ok = false;
  if (parser && cc) {
    parser->flags |= PARSER_FLAG_COMPLETE_FRAMES;
    uint8_t* out = nullptr;
    int out_size = 0;
    av_parser_parse2(parser, cc, &out, &out_size, access_unit.data(), static_cast<int>(access_unit.size()),
                     AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0);
    width = parser->width > 0 ? parser->width : cc->width;
    height = parser->height > 0 ? parser->height : cc->height;
    ok = width > 0 && height > 0;
  }
  if (parser) av_parser_close(parser);
  avcodec_free_context(&cc);
  return ok;
}

}  // namespace

Container resolve_container(Container container, const TrackFormat& format) {
  using rtc::Codec;
  if (container == Container::kAuto) {
    switch (format.codec) {
      case Codec::kVp8: return Container::kWebm;
      case Codec::kH264: return Container::kMp4;
      case Codec::kOpus: return Container::kOgg;
      default: throw BadInput("recording: unsupported codec");
    }
  }
  bool ok = false;
  switch (container) {
    case Container::kWebm: ok = format.codec == Codec::kVp8 || format.codec == Codec::kOpus; break;
    case Container::kMp4: ok = format.codec == Codec::kH264 || format.codec == Codec::kOpus; break;
    case Container::kOgg: ok = format.codec == Codec::kOpus; break;
    case Container::kMatroska: ok = format.codec != Codec::kUnknown; break;
    default: break;
  }
  if (!ok)
    throw BadInput(std::string("recording: a ") + format_name(container) + " file cannot hold " +
                   std::string(rtc::codec_short_name(format.codec)));
  return container;
}

const char* container_extension(Container container) {
  switch (container) {
    case Container::kWebm: return ".webm";
    case Container::kMp4: return ".mp4";
    case Container::kOgg: return ".ogg";
    default: return ".mkv";
  }
}

Muxer::Muxer(const std::filesystem::path& path, Container container, const TrackFormat& format)
    : format_(format), container_(resolve_container(container, format)) {
  int r = avformat_alloc_output_context2(&ctx_, nullptr, format_name(container_), nullptr);
  if (r < 0 || !ctx_) throw InternalError("recording: libavformat: " + av_error_text(r));
  packet_ = av_packet_alloc();
  r = avio_open(&ctx_->pb, path.c_str(), AVIO_FLAG_WRITE);
  if (r < 0 || !packet_) {
    std::string reason = av_error_text(r);
    av_packet_free(&packet_);
    avformat_free_context(ctx_);
    ctx_ = nullptr;
    throw InternalError("recording: cannot create " + path.string() + ": " + reason);
  }
}

Muxer::~Muxer() {
  close();
  av_packet_free(&packet_);
}

bool Muxer::fail(const std::string& what, int averror) {
  if (!failed_) {
    failed_ = true;
    error_ = what + (averror < 0 ? ": " + av_error_text(averror) : std::string());
  }
  return false;
}

bool Muxer::write_header(const EncodedFrame& first) {
  AVStream* st = avformat_new_stream(ctx_, nullptr);
  if (!st) return fail("recording: libavformat stream", AVERROR(ENOMEM));
  AVCodecParameters* par = st->codecpar;
  std::span<const uint8_t> extradata;
  uint8_t opus_head[19];
  if (format_.codec == rtc::Codec::kOpus) {
    par->codec_type = AVMEDIA_TYPE_AUDIO;
    par->codec_id = AV_CODEC_ID_OPUS;
    par->sample_rate = 48000;
    int channels = first.stereo ? 2 : 1;
    av_channel_layout_default(&par->ch_layout, channels);
    // RFC 7845 §5.1 identification header: no pre-skip (the stream starts mid-call), 48 kHz,
    // no gain, channel mapping family 0.
    std::memcpy(opus_head, "OpusHead", 8);
    opus_head[8] = 1;
    opus_head[9] = static_cast<uint8_t>(channels);
    opus_head[10] = opus_head[11] = 0;
    uint32_t rate = 48000;
    for (int i = 0; i < 4; ++i) opus_head[12 + i] = static_cast<uint8_t>(rate >> (8 * i));
    opus_head[16] = opus_head[17] = opus_head[18] = 0;
    extradata = opus_head;
  } else {
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = format_.codec == rtc::Codec::kVp8 ? AV_CODEC_ID_VP8 : AV_CODEC_ID_H264;
    int w = first.width, h = first.height;
    if (format_.codec == rtc::Codec::kH264) {
      if (first.extradata.empty() || !h264_picture_size(first.data, w, h))
        return fail("recording: the first H.264 keyframe has no readable SPS", 0);
      extradata = first.extradata;
    }
    par->width = w;
    par->height = h;
  }
  if (!extradata.empty()) {
    par->extradata = static_cast<uint8_t*>(av_mallocz(extradata.size() + AV_INPUT_BUFFER_PADDING_SIZE));
    if (!par->extradata) return fail("recording: extradata", AVERROR(ENOMEM));
    std::memcpy(par->extradata, extradata.data(), extradata.size());
    par->extradata_size = static_cast<int>(extradata.size());
  }
  st->time_base = AVRational{1, static_cast<int>(format_.clock_rate)};

  ctx_->flush_packets = 1;
  AVDictionary* options = nullptr;
  if (container_ == Container::kWebm || container_ == Container::kMatroska) {
    av_dict_set_int(&options, "cluster_time_limit", kClusterMs, 0);
  } else if (container_ == Container::kMp4) {
    av_dict_set(&options, "movflags", "empty_moov+default_base_moof+frag_keyframe", 0);
    av_dict_set_int(&options, "frag_duration", kFragmentUs, 0);
  }
  int r = avformat_write_header(ctx_, &options);
  av_dict_free(&options);
  if (r < 0) return fail("recording: cannot write the file header", r);
  header_written_ = true;
  first_ts_ = first.timestamp;
  return true;
}

bool Muxer::write(const EncodedFrame& frame) {
  if (failed_ || closed_ || frame.data.empty()) return false;
  if (!header_written_ && !write_header(frame)) return false;
  if (frame.timestamp < first_ts_) {
    ++skipped_;
    return true;
  }
  int64_t pts = static_cast<int64_t>(frame.timestamp - first_ts_);
  if (pts <= last_pts_) {  // would be out of order in the file
    ++skipped_;
    return true;
  }
  int64_t duration = 0;
  if (format_.codec == rtc::Codec::kOpus) {
    duration = static_cast<int64_t>(frame.samples) * format_.clock_rate / 48000;
  } else if (last_pts_ >= 0) {
    duration = pts - last_pts_;  // the previous frame's; the best guess for this one
  }
  last_duration_ = duration;
  last_pts_ = pts;

  av_packet_unref(packet_);
  // The muxer may keep a reference; give it its own copy (libavformat frees it).
  int r = av_new_packet(packet_, static_cast<int>(frame.data.size()));
  if (r < 0) return fail("recording: packet", r);
  std::memcpy(packet_->data, frame.data.data(), frame.data.size());
  AVStream* st = ctx_->streams[0];
  packet_->stream_index = 0;
  packet_->pts = packet_->dts = av_rescale_q(pts, AVRational{1, static_cast<int>(format_.clock_rate)}, st->time_base);
  packet_->duration = av_rescale_q(duration, AVRational{1, static_cast<int>(format_.clock_rate)}, st->time_base);
  if (frame.keyframe) packet_->flags |= AV_PKT_FLAG_KEY;
  r = av_write_frame(ctx_, packet_);
  if (r < 0 || (ctx_->pb && ctx_->pb->error < 0))
    return fail("recording: write failed", r < 0 ? r : ctx_->pb->error);
  ++frames_;
  return true;
}

int64_t Muxer::duration_ns() const {
  if (last_pts_ < 0) return 0;
  return (last_pts_ + last_duration_) * 1'000'000'000LL / format_.clock_rate;
}

bool Muxer::close() {
  if (closed_ || !ctx_) return !failed_;
  closed_ = true;
  if (header_written_ && !failed_) {
    int r = av_write_trailer(ctx_);
    if (r < 0) fail("recording: cannot finish the file", r);
  }
  if (ctx_->pb) {
    avio_flush(ctx_->pb);
    if (ctx_->pb->error < 0) fail("recording: write failed", ctx_->pb->error);
    int r = avio_closep(&ctx_->pb);
    if (r < 0) fail("recording: close failed", r);
  }
  avformat_free_context(ctx_);
  ctx_ = nullptr;
  return !failed_;
}

}  // namespace parlor::egress
