#include "rtc/sdp/session_description.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "common/errors.hpp"

namespace parlor::rtc {
namespace {

std::string fixture(const char* name) {
  std::ifstream in(std::string(PARLOR_TEST_DATA_DIR) + "/sdp/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Sdp, ParsesARealChromiumOffer) {
  auto sd = SessionDescription::parse(fixture("chromium156-offer.sdp"));
  EXPECT_EQ(sd.bundle_mids(), (std::vector<std::string>{"0", "1", "2", "3"}));
  ASSERT_EQ(sd.media.size(), 4u);
  const auto& audio = sd.media[0];
  EXPECT_EQ(audio.kind, "audio");
  EXPECT_EQ(audio.proto, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(audio.mid(), "0");
  EXPECT_EQ(audio.direction(), SdpDirection::kSendOnly);
  EXPECT_TRUE(audio.has_flag("rtcp-mux"));
  EXPECT_EQ(audio.setup, "actpass");
  EXPECT_EQ(audio.fingerprint.rfind("sha-256 ", 0), 0u);
  EXPECT_FALSE(audio.ice_ufrag.empty());
  EXPECT_GE(audio.ice_pwd.size(), 22u);
  auto codecs = audio.codecs();
  ASSERT_FALSE(codecs.empty());
  EXPECT_EQ(codecs[0].name, "opus");
  EXPECT_EQ(codecs[0].clock_rate, 48000);
  EXPECT_EQ(codecs[0].channels, 2);
  EXPECT_NE(codecs[0].fmtp.find("useinbandfec=1"), std::string::npos);
  EXPECT_EQ(audio.msid().second.size(), 36u);  // the track's UUID
  EXPECT_FALSE(audio.ssrcs().empty());

  const auto& video = sd.media[1];
  EXPECT_EQ(video.kind, "video");
  EXPECT_EQ(video.simulcast_send(), (std::vector<std::string>{"q", "h", "f"}));
  auto rids = video.rids();
  ASSERT_EQ(rids.size(), 3u);
  EXPECT_EQ(rids[0].id, "q");
  EXPECT_EQ(rids[0].direction, "send");
  bool vp8 = false, rtx_for_vp8 = false;
  for (const auto& c : video.codecs()) {
    if (c.name == "VP8") {
      vp8 = true;
      EXPECT_NE(std::find(c.feedback.begin(), c.feedback.end(), "nack pli"), c.feedback.end());
      for (const auto& r : video.codecs()) rtx_for_vp8 |= r.name == "rtx" && r.rtx_apt() == c.payload_type;
    }
  }
  EXPECT_TRUE(vp8);
  EXPECT_TRUE(rtx_for_vp8);
  bool mid_ext = false, rid_ext = false;
  for (const auto& e : video.extensions()) {
    mid_ext |= e.uri == "urn:ietf:params:rtp-hdrext:sdes:mid";
    rid_ext |= e.uri == "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
  }
  EXPECT_TRUE(mid_ext && rid_ext);
  EXPECT_EQ(sd.media[2].direction(), SdpDirection::kRecvOnly);
  const auto& app = sd.media[3];
  EXPECT_EQ(app.kind, "application");
  EXPECT_EQ(app.attribute("sctp-port"), "5000");
  EXPECT_TRUE(app.attribute("max-message-size").has_value());
  EXPECT_FALSE(audio.attribute_values("candidate").empty());
}

TEST(Sdp, SerializeThenParseKeepsEverything) {
  auto sd = SessionDescription::parse(fixture("chromium156-offer.sdp"));
  auto text = sd.serialize();
  EXPECT_NE(text.find("\r\n"), std::string::npos);
  auto again = SessionDescription::parse(text);
  ASSERT_EQ(again.media.size(), sd.media.size());
  for (size_t i = 0; i < sd.media.size(); ++i) {
    ASSERT_EQ(again.media[i].attributes.size(), sd.media[i].attributes.size()) << i;
    for (size_t j = 0; j < sd.media[i].attributes.size(); ++j) {
      EXPECT_EQ(again.media[i].attributes[j].name, sd.media[i].attributes[j].name);
      EXPECT_EQ(again.media[i].attributes[j].value, sd.media[i].attributes[j].value);
    }
    EXPECT_EQ(again.media[i].formats, sd.media[i].formats);
  }
  EXPECT_EQ(again.serialize(), text);  // stable
}

TEST(Sdp, BuildsAnAnswerSection) {
  SessionDescription answer;
  answer.attributes.push_back({"group", "BUNDLE 0", true});
  answer.attributes.push_back({"ice-lite", "", false});
  SdpMedia m;
  m.kind = "audio";
  m.proto = "UDP/TLS/RTP/SAVPF";
  m.formats = {"111"};
  m.add("mid", "0");
  m.add("rtpmap", "111 opus/48000/2");
  m.add_flag("rtcp-mux");
  m.set_direction(SdpDirection::kRecvOnly);
  m.set_direction(SdpDirection::kInactive);  // replaces, never duplicates
  answer.media.push_back(m);
  auto back = SessionDescription::parse(answer.serialize());
  EXPECT_TRUE(back.ice_lite());
  EXPECT_EQ(back.media[0].direction(), SdpDirection::kInactive);
  EXPECT_EQ(back.media[0].attribute_values("inactive").size() + back.media[0].attribute_values("recvonly").size(), 1u);
  EXPECT_EQ(back.media[0].codecs()[0].name, "opus");
}

TEST(Sdp, MalformedAndOversizedInputIsAClearError) {
  auto rejects = [](std::string_view text, const char* want) {
    try {
      SessionDescription::parse(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const BadInput& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  };
  rejects("", "empty");
  rejects("x=1\r\n", "v=0");
  rejects("v=0\r\nm=audio\r\n", "m=");
  rejects("v=0\r\nm=audio 99999 RTP/AVP 0\r\n", "port");
  rejects("v=0\r\nthis is not sdp\r\n", "line 2");
  rejects(std::string(70 * 1024, 'a'), "larger");
  std::string many = "v=0\r\n";
  for (int i = 0; i < 70; ++i) many += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
  rejects(many, "too many");
}

TEST(Sdp, RandomMutationsNeverCrash) {
  auto base = fixture("chromium156-offer.sdp");
  std::mt19937 rng(6);
  for (int i = 0; i < 3000; ++i) {
    std::string s = base;
    for (int k = 0; k < 8; ++k) s[rng() % s.size()] = static_cast<char>(rng());
    try {
      auto sd = SessionDescription::parse(s);
      for (const auto& m : sd.media) {
        (void)m.codecs();
        (void)m.extensions();
        (void)m.rids();
        (void)m.simulcast_send();
        (void)m.ssrcs();
        (void)m.fid_groups();
      }
      (void)sd.serialize();
    } catch (const BadInput&) {
    }
  }
}

}  // namespace
}  // namespace parlor::rtc
