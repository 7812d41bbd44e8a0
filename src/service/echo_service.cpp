#include "service/echo_service.hpp"

#include <future>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "rtc/rtcp/rtcp_packet.hpp"
#include "rtc/sdp/session_description.hpp"
#include "rtc/transport/webrtc_transport.hpp"
#include "sfu/packet_cache.hpp"

namespace parlor::service {

namespace {
constexpr size_t kMaxEchoSessions = 50;
constexpr auto kSweepInterval = std::chrono::seconds(2);
constexpr auto kConnectDeadline = std::chrono::seconds(30);
constexpr uint32_t kEchoAudioSsrc = 0x0EC0A001;
constexpr uint32_t kEchoVideoSsrc = 0x0EC0B001;
constexpr uint32_t kEchoRtcpSsrc = 0x0EC0C001;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

// One browser loop-back: its transport plus the payload-type → kind map from the answer.
class EchoSession : public rtc::WebRtcTransport::Listener {
 public:
  EchoSession(sfu::Worker& worker, std::atomic<uint64_t>& echoed)
      : worker_(worker), echoed_(echoed), created_(rtc::IceLiteAgent::Clock::now()),
        transport_(worker.certificate(), rtc::generate_ice_credentials(), {}, worker, *this) {
    worker_.add(transport_);
  }
  ~EchoSession() override { worker_.remove(transport_); }

  rtc::WebRtcTransport& transport() { return transport_; }
  int audio_pt = -1, video_pt = -1;
  uint32_t browser_video_ssrc = 0;
  bool ended = false;
  rtc::IceLiteAgent::Clock::time_point created_at() const { return created_; }
  uint64_t echoed_packets = 0;
  uint64_t retransmitted = 0;

  void on_transport_connected() override {}
  void on_transport_closed(const std::string&) override { ended = true; }
  void on_rtp(rtc::RtpPacketView& p) override {
    int pt = p.payload_type();
    if (pt == video_pt) {
      browser_video_ssrc = p.ssrc();
      p.set_ssrc(kEchoVideoSsrc);
      video_cache_.store(p.sequence(), p.bytes());
    } else if (pt == audio_pt) {
      p.set_ssrc(kEchoAudioSsrc);
    } else {
      return;  // RTX, RED, FEC: not negotiated in the answer
    }
    if (transport_.send_rtp(p.bytes())) {
      ++echoed_packets;
      ++echoed_;
    }
  }
  void on_rtcp(std::span<const uint8_t> compound) override {
    rtc::rtcp::CompoundIterator it(compound);
    while (auto h = it.next()) {
      if (h->type == rtc::rtcp::kRtpFeedback && h->count == rtc::rtcp::kFmtNack) {
        // The browser lost some of the echoed video: resend from the cache.
        auto ids = rtc::rtcp::read_feedback_ids(*h);
        if (!ids || ids->media_ssrc != kEchoVideoSsrc) continue;
        rtc::rtcp::for_each_nack(*h, [&](uint16_t seq) {
          if (auto packet = video_cache_.get(seq); packet && transport_.send_rtp(*packet)) ++retransmitted;
        });
        continue;
      }
      bool keyframe_request = (h->type == rtc::rtcp::kPayloadFeedback &&
                               (h->count == rtc::rtcp::kFmtPli || h->count == rtc::rtcp::kFmtFir));
      if (keyframe_request && browser_video_ssrc) {
        // The viewer (the browser's receiver) wants a keyframe: ask the sender (the browser's
        // encoder) for one on its own SSRC.
        std::array<uint8_t, 16> pli{};
        size_t n = rtc::rtcp::build_pli(pli, kEchoRtcpSsrc, browser_video_ssrc);
        transport_.send_rtcp({pli.data(), n});
      }
    }
  }

 private:
  sfu::Worker& worker_;
  std::atomic<uint64_t>& echoed_;
  rtc::IceLiteAgent::Clock::time_point created_;
  rtc::WebRtcTransport transport_;
  sfu::PacketCache video_cache_{512};
};

EchoService::EchoService(sfu::Worker& worker, Metrics& metrics)
    : worker_(worker), metrics_(metrics), sweep_timer_(worker.io()) {
  worker_.post([this] { schedule_sweep(); });
}

EchoService::~EchoService() = default;

void EchoService::schedule_sweep() {
  sweep_timer_.expires_after(kSweepInterval);
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    auto now = rtc::IceLiteAgent::Clock::now();
    std::erase_if(sessions_, [&](const auto& kv) {
      auto& s = *kv.second;
      auto st = s.transport().ice_state(now);
      return s.ended || st == rtc::IceLiteAgent::State::kDisconnected ||
             (!s.transport().connected() && now - s.created_at() > kConnectDeadline);
    });
    schedule_sweep();
  });
}

http::Response EchoService::handle_offer(const http::Request& req) {
  std::string sdp_text = req.body;
  if (req.header("content-type").find("application/json") != std::string::npos) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.contains("sdp") || !j["sdp"].is_string()) {
      return http::Response::text(400, "expected JSON {\"sdp\": \"...\"}");
    }
    sdp_text = j["sdp"].get<std::string>();
  }
  rtc::SessionDescription offer;
  try {
    offer = rtc::SessionDescription::parse(sdp_text);
  } catch (const BadInput& e) {
    return http::Response::text(400, std::string("invalid SDP offer: ") + e.what());
  }
  auto session_fut = std::make_shared<std::promise<std::pair<int, std::string>>>();
  auto result = session_fut->get_future();
  worker_.post([this, offer = std::move(offer), session_fut]() mutable {
    if (sessions_.size() >= kMaxEchoSessions) {
      session_fut->set_value({503, "too many camera checks in progress; try again shortly"});
      return;
    }
    auto& echoed = metrics_.counter("parlor_echo_packets_total", "RTP packets echoed by camera checks");
    auto s = std::make_unique<EchoSession>(worker_, echoed);
    rtc::SessionDescription answer;
    answer.origin = "- 1 1 IN IP4 " + worker_.advertised_ip();
    answer.attributes.push_back({"ice-lite", "", false});
    answer.attributes.push_back({"msid-semantic", " WMS echo", true});
    std::string bundle = "BUNDLE";
    std::string ufrag, pwd, fingerprint;
    for (const auto& m : offer.media) {
      rtc::SdpMedia a;
      a.kind = m.kind;
      a.proto = m.proto;
      a.add("mid", m.mid());
      int pt = -1;
      rtc::SdpCodec chosen;
      if (m.kind == "audio" || m.kind == "video") {
        for (const auto& c : m.codecs()) {
          if (lower(c.name) == (m.kind == "audio" ? "opus" : "vp8")) {
            chosen = c;
            pt = c.payload_type;
            break;
          }
        }
      }
      if (pt < 0) {  // data channels and unsupported codecs are declined
        a.port = 0;
        a.formats = m.formats.empty() ? std::vector<std::string>{"0"} : std::vector<std::string>{m.formats[0]};
        a.add_flag("inactive");
        answer.media.push_back(std::move(a));
        continue;
      }
      if (ufrag.empty()) {
        ufrag = m.ice_ufrag, pwd = m.ice_pwd, fingerprint = m.fingerprint;
      }
      (m.kind == "audio" ? s->audio_pt : s->video_pt) = pt;
      bundle += " " + m.mid();
      a.port = worker_.udp_port();
      a.connection = "IN IP4 " + worker_.advertised_ip();
      a.formats = {std::to_string(pt)};
      a.add("ice-ufrag", s->transport().local_ice().ufrag);
      a.add("ice-pwd", s->transport().local_ice().pwd);
      a.add("fingerprint", "sha-256 " + worker_.certificate().fingerprint());
      a.add("setup", "passive");
      a.add_flag("rtcp-mux");
      a.set_direction(rtc::SdpDirection::kSendRecv);
      std::string rtpmap = std::to_string(pt) + " " + chosen.name + "/" + std::to_string(chosen.clock_rate);
      if (chosen.channels) rtpmap += "/" + std::to_string(chosen.channels);
      a.add("rtpmap", rtpmap);
      if (!chosen.fmtp.empty()) a.add("fmtp", std::to_string(pt) + " " + chosen.fmtp);
      if (m.kind == "video") {
        for (const char* fb : {"nack", "nack pli", "ccm fir"}) a.add("rtcp-fb", std::to_string(pt) + " " + fb);
      }
      uint32_t ssrc = m.kind == "audio" ? kEchoAudioSsrc : kEchoVideoSsrc;
      a.add("msid", "echo " + m.kind);
      a.add("ssrc", std::to_string(ssrc) + " cname:parlor-echo");
      a.add("ssrc", std::to_string(ssrc) + " msid:echo " + m.kind);
      a.add("candidate", rtc::host_candidate(1, "udp", worker_.advertised_ip(), worker_.udp_port()));
      a.add_flag("end-of-candidates");
      answer.media.push_back(std::move(a));
    }
    if (ufrag.empty()) {
      session_fut->set_value({400, "the offer has no audio (Opus) or video (VP8) to check"});
      return;
    }
    answer.attributes.insert(answer.attributes.begin(), {"group", bundle, true});
    s->transport().set_remote({ufrag, pwd}, fingerprint);
    std::string local_ufrag = s->transport().local_ice().ufrag;
    sessions_[local_ufrag] = std::move(s);
    session_fut->set_value({200, answer.serialize()});
  });
  if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    return http::Response::text(503, "media worker busy");
  }
  auto [status, body] = result.get();
  if (status != 200) return http::Response::text(status, body);
  http::Response r;
  r.body = body;
  r.headers.emplace_back("Content-Type", "application/sdp");
  return r;
}

http::Response EchoService::handle_stats(const http::Request&) {
  auto promise = std::make_shared<std::promise<std::string>>();
  auto fut = promise->get_future();
  worker_.post([this, promise] {
    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& [ufrag, s] : sessions_) {
      const auto& c = s->transport().counters();
      sessions.push_back({{"connected", s->transport().connected()},
                          {"echoedPackets", s->echoed_packets},
                          {"retransmitted", s->retransmitted},
                          {"srtpErrors", c.srtp_errors},
                          {"dtlsFromUnvalidated", c.dtls_from_unvalidated}});
    }
    promise->set_value(nlohmann::json{{"sessions", sessions}, {"udpPort", worker_.udp_port()}}.dump());
  });
  if (fut.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    return http::Response::text(503, "media worker busy");
  }
  return http::Response::json(200, fut.get());
}

}  // namespace parlor::service
