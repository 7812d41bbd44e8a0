#include "service/echo_service.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/http/respond_once.hpp"
#include "rtc/rtcp/rtcp_packet.hpp"
#include "rtc/sdp/session_description.hpp"
#include "rtc/transport/webrtc_transport.hpp"
#include "sfu/packet_cache.hpp"
#include "sfu/sdp_answer.hpp"

namespace parlor::service {

namespace {
constexpr size_t kMaxEchoSessions = 50;
constexpr auto kSweepInterval = std::chrono::seconds(2);
constexpr auto kConnectDeadline = std::chrono::seconds(30);
constexpr uint32_t kEchoAudioSsrc = 0x0EC0A001;
constexpr uint32_t kEchoVideoSsrc = 0x0EC0B001;
constexpr uint32_t kEchoRtcpSsrc = 0x0EC0C001;
constexpr size_t kMaxEchoMessage = 65536;  // data channel messages echoed back

// The answer of a request whose task the stopping worker dropped.
http::RespondOnce answer_once(http::Respond respond) {
  return {std::move(respond),
          [] { return http::Response::text(503, "the media worker is stopping"); }};
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
  uint64_t data_echoed = 0;

  void on_transport_connected() override {}
  // Data channel messages come straight back on the same channel.
  void on_data_message(uint16_t stream, std::span<const uint8_t> data, bool binary) override {
    if (transport_.send_data(stream, data, binary)) ++data_echoed;
  }
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

void EchoService::handle_offer(const http::Request& req, http::Respond respond_to) {
  auto respond = answer_once(std::move(respond_to));
  std::string sdp_text = req.body;
  if (req.header("content-type").find("application/json") != std::string::npos) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.contains("sdp") || !j["sdp"].is_string()) {
      respond(http::Response::text(400, "expected JSON {\"sdp\": \"...\"}"));
      return;
    }
    sdp_text = j["sdp"].get<std::string>();
  }
  rtc::SessionDescription offer;
  try {
    offer = rtc::SessionDescription::parse(sdp_text);
  } catch (const BadInput& e) {
    respond(http::Response::text(400, std::string("invalid SDP offer: ") + e.what()));
    return;
  }
  worker_.post([this, alive = std::weak_ptr<bool>(alive_), offer = std::move(offer), respond] {
    if (!alive.lock()) return;  // the service is gone: `respond` answers 503 as it is dropped
    http::Response res;
    if (auto caught = guarded([&] { res = answer_offer(offer); })) {
      worker_.note_caught("worker_task");
      worker_.log().error("echo: answering an offer threw: {}", caught->message);
      res = http::Response::text(500, "internal error");
    }
    respond(std::move(res));
  });
}

// Worker thread: a new loop-back session for the offer, and the answer (or why not).
http::Response EchoService::answer_offer(const rtc::SessionDescription& offer) {
  if (sessions_.size() >= kMaxEchoSessions) {
    return http::Response::text(503, "too many camera checks in progress; try again shortly");
  }
  auto& echoed =
      metrics_.counter("parlor_echo_packets_total", "RTP packets echoed by camera checks");
  auto s = std::make_unique<EchoSession>(worker_, echoed);
  rtc::SessionDescription answer = sfu::begin_answer(worker_, 1);
  std::string bundle = "BUNDLE";
  std::string ufrag, pwd, fingerprint;
  bool have_media = false;
  for (const auto& m : offer.media) {
    auto codec = sfu::pick_codec(m);
    bool data = m.kind == "application" && m.port != 0;
    if ((!codec && !data) || m.port == 0) {  // unsupported codecs and rejected sections
      answer.media.push_back(sfu::rejected_section(m));
      continue;
    }
    auto a = sfu::accepted_section(m, worker_, s->transport(), ufrag.empty());
    if (data) {
      auto sctp = sfu::add_sctp_attributes(m, a, kMaxEchoMessage);
      if (!sctp) {
        answer.media.push_back(sfu::rejected_section(m));
        continue;
      }
      s->transport().enable_sctp(sctp->remote_port, sctp->max_message_size);
    } else {
      have_media = true;
      (m.kind == "audio" ? s->audio_pt : s->video_pt) = codec->payload_type;
      a.set_direction(rtc::SdpDirection::kSendRecv);
      sfu::add_codec(a, *codec);
      uint32_t ssrc = m.kind == "audio" ? kEchoAudioSsrc : kEchoVideoSsrc;
      a.add("msid", "echo " + m.kind);
      a.add("ssrc", std::to_string(ssrc) + " cname:parlor-echo");
      a.add("ssrc", std::to_string(ssrc) + " msid:echo " + m.kind);
    }
    if (ufrag.empty()) {
      ufrag = m.ice_ufrag, pwd = m.ice_pwd, fingerprint = m.fingerprint;
    }
    bundle += " " + m.mid();
    answer.media.push_back(std::move(a));
  }
  if (!have_media) {
    return http::Response::text(400, "the offer has no audio (Opus) or video (VP8) to check");
  }
  answer.attributes.insert(answer.attributes.begin(), {"group", bundle, true});
  s->transport().set_remote({ufrag, pwd}, fingerprint);
  std::string local_ufrag = s->transport().local_ice().ufrag;
  sessions_[local_ufrag] = std::move(s);
  http::Response r;
  r.body = answer.serialize();
  r.headers.emplace_back("Content-Type", "application/sdp");
  return r;
}

void EchoService::handle_stats(const http::Request&, http::Respond respond_to) {
  worker_.post([this, alive = std::weak_ptr<bool>(alive_),
                respond = answer_once(std::move(respond_to))] {
    if (!alive.lock()) return;
    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& [ufrag, s] : sessions_) {
      const auto& c = s->transport().counters();
      sessions.push_back({{"connected", s->transport().connected()},
                          {"echoedPackets", s->echoed_packets},
                          {"retransmitted", s->retransmitted},
                          {"dataEchoed", s->data_echoed},
                          {"srtpErrors", c.srtp_errors},
                          {"dtlsFromUnvalidated", c.dtls_from_unvalidated}});
    }
    respond(http::Response::json(
        200, nlohmann::json{{"sessions", sessions}, {"udpPort", worker_.udp_port()}}.dump()));
  });
}

}  // namespace parlor::service
