// Which codec a section is answered with: the publisher's preference among what we forward, the
// subscriber's payload type for the publisher's codec, and the fixed two-connection offer.
#include <gtest/gtest.h>

#include <string>

#include "rtc/codecs/codecs.hpp"
#include "rtc/sdp/session_description.hpp"
#include "sfu/sdp_answer.hpp"

namespace parlor::sfu {
namespace {

// A video section offering `formats` (in preference order) with the rtpmap/fmtp lines given.
rtc::SdpMedia video_section(const std::string& formats, const std::string& lines) {
  std::string sdp =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF " + formats + "\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\n" + lines;
  return rtc::SessionDescription::parse(sdp).media.at(0);
}

const std::string kChromeLike =
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
    "a=rtpmap:103 H264/90000\r\na=fmtp:103 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:108 H264/90000\r\na=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=0\r\n";

TEST(CodecChoice, ThePublishersRequestedOrFirstForwardableCodecWins) {
  // Default order: VP8 first.
  auto vp8 = pick_codec(video_section("96 97 103 102 108 98", kChromeLike));
  ASSERT_TRUE(vp8);
  EXPECT_EQ(vp8->name, "VP8");
  EXPECT_EQ(vp8->payload_type, 96);
  // videoCodec 'h264': H.264 first; mode 0 (single NAL units) is skipped, mode 1 taken.
  auto h264 = pick_codec(video_section("103 102 108 96 97 98", kChromeLike));
  ASSERT_TRUE(h264);
  EXPECT_EQ(h264->name, "H264");
  EXPECT_EQ(h264->payload_type, 102);
  EXPECT_EQ(h264->fmtp_parameter("profile-level-id"), "42001f");
  // The codec the AddTrackRequest asked for wins over the offer's order when it is offered.
  EXPECT_EQ(pick_codec(video_section("96 97 103 102 108 98", kChromeLike), rtc::Codec::kH264)->payload_type, 102);
  EXPECT_EQ(pick_codec(video_section("96 97 98", kChromeLike), rtc::Codec::kH264)->payload_type, 96);
  // VP9 first: not forwarded yet, so the next one we forward.
  EXPECT_EQ(pick_codec(video_section("98 108 96", kChromeLike))->payload_type, 108);
  // Nothing we forward: no codec (the section is rejected).
  EXPECT_FALSE(pick_codec(video_section("98 97 103", kChromeLike)));
}

TEST(CodecChoice, ASubscriberGetsThePublishersCodecUnderItsOwnPayloadType) {
  rtc::SdpCodec sent{.payload_type = 102, .name = "H264", .clock_rate = 90000,
                     .fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"};
  auto section = video_section("96 97 103 102 108 98", kChromeLike);
  auto exact = match_codec(section, sent);
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->payload_type, 108);  // the same profile-level-id, mode 1
  sent.fmtp = "packetization-mode=1;profile-level-id=42e028";  // same profile, another level
  EXPECT_EQ(match_codec(section, sent)->payload_type, 108);
  sent.fmtp = "packetization-mode=1;profile-level-id=4d001f";  // main profile: any mode-1 H.264
  EXPECT_EQ(match_codec(section, sent)->payload_type, 102);
  // A receiver without H.264 cannot take it; VP8 goes to VP8.
  auto vp8_only = video_section("96 97", kChromeLike);
  EXPECT_FALSE(match_codec(vp8_only, sent));
  EXPECT_EQ(match_codec(vp8_only, rtc::SdpCodec{.payload_type = 120, .name = "vp8", .clock_rate = 90000})->payload_type, 96);
}

TEST(CodecChoice, TheTwoConnectionOfferUsesOneConfigurationPerPayloadType) {
  auto h264 = subscriber_codec({.payload_type = 102, .name = "H264", .clock_rate = 90000,
                                .fmtp = "packetization-mode=1;profile-level-id=4d001f"});
  EXPECT_EQ(h264.payload_type, 125);
  EXPECT_EQ(h264.fmtp_parameter("packetization-mode"), "1");
  EXPECT_EQ(h264.fmtp_parameter("profile-level-id"), "42e01f");
  EXPECT_EQ(subscriber_codec({.name = "VP8"}).payload_type, 96);
  auto opus = subscriber_codec({.payload_type = 109, .name = "opus", .clock_rate = 48000, .channels = 2});
  EXPECT_EQ(opus.payload_type, 111);
  EXPECT_EQ(opus.channels, 2);
}

TEST(CodecChoice, RtxIsFoundByTheCodecItRepairs) {
  auto section = video_section("96 97 102 108", kChromeLike);
  auto rtx = find_rtx(section, 96);
  ASSERT_TRUE(rtx);
  EXPECT_EQ(rtx->payload_type, 97);
  EXPECT_FALSE(find_rtx(section, 108));  // no rtx offered for it
  EXPECT_EQ(subscriber_rtx(subscriber_codec({.name = "VP8"})).fmtp, "apt=96");
  EXPECT_EQ(subscriber_rtx(subscriber_codec({.name = "H264"})).payload_type, 107);
  rtc::SdpMedia answer;
  answer.kind = "video";
  add_codec(answer, *pick_codec(section));
  add_rtx(answer, *rtx, 96);
  EXPECT_EQ(answer.formats, (std::vector<std::string>{"96", "97"}));
  auto codecs = answer.codecs();
  ASSERT_EQ(codecs.size(), 2u);
  EXPECT_EQ(codecs[1].rtx_apt(), 96);
}

TEST(CodecChoice, OpusRedGoesAheadOfOpus) {
  std::string sdp =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n"
      "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
      "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\na=rtpmap:9 G722/8000\r\n";
  auto audio = rtc::SessionDescription::parse(sdp).media.at(0);
  auto opus = pick_codec(audio);
  ASSERT_TRUE(opus);
  EXPECT_EQ(opus->payload_type, 111);
  auto red = find_red(audio, 111);
  ASSERT_TRUE(red);
  EXPECT_EQ(red->payload_type, 63);
  EXPECT_FALSE(find_red(audio, 109));  // RED over another codec is not ours
  rtc::SdpMedia answer;
  answer.kind = "audio";
  add_codec(answer, *opus);
  add_red(answer, *red, 111);
  EXPECT_EQ(answer.formats, (std::vector<std::string>{"63", "111"}));
  EXPECT_EQ(subscriber_red().fmtp, "111/111");
}

TEST(CodecChoice, FmtpParametersAreFoundByName) {
  EXPECT_EQ(rtc::SdpCodec{.fmtp = "a=1; b=22;c=3"}.fmtp_parameter("b"), "22");
  EXPECT_EQ(rtc::SdpCodec{.fmtp = "a=1;b=22"}.fmtp_parameter("c"), "");
  EXPECT_EQ(rtc::SdpCodec{.fmtp = ""}.fmtp_parameter("a"), "");
  EXPECT_EQ(rtc::SdpCodec{.fmtp = "apt=96"}.fmtp_parameter("apt"), "96");
}

TEST(CodecNames, MimeTypesAndKeyframesPerCodec) {
  EXPECT_EQ(rtc::codec_from_name("video/H264"), rtc::Codec::kH264);
  EXPECT_EQ(rtc::codec_from_name("h264"), rtc::Codec::kH264);
  EXPECT_EQ(rtc::codec_from_name("VP8"), rtc::Codec::kVp8);
  EXPECT_EQ(rtc::codec_from_name("audio/OPUS"), rtc::Codec::kOpus);
  EXPECT_EQ(rtc::codec_from_name("vp9"), rtc::Codec::kUnknown);
  EXPECT_EQ(rtc::codec_from_name(""), rtc::Codec::kUnknown);
  EXPECT_EQ(rtc::codec_mime_type(rtc::Codec::kH264), "video/H264");
  EXPECT_EQ(rtc::codec_short_name(rtc::Codec::kH264), "h264");
  const uint8_t idr[] = {0x65, 0x88};      // NAL type 5
  const uint8_t vp8_key[] = {0x10, 0x00};  // S=1 PID=0, P=0
  EXPECT_TRUE(rtc::starts_keyframe(rtc::Codec::kH264, idr));
  EXPECT_FALSE(rtc::starts_keyframe(rtc::Codec::kVp8, idr));
  EXPECT_TRUE(rtc::starts_keyframe(rtc::Codec::kVp8, vp8_key));
  EXPECT_FALSE(rtc::starts_keyframe(rtc::Codec::kOpus, vp8_key));
}

}  // namespace
}  // namespace parlor::sfu
