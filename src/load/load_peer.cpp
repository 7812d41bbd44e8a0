#include "load/load_peer.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cmath>
#include <cstring>
#include <sstream>

#include "common/boundary.hpp"
#include "load/synthetic_media.hpp"
#include "rtc/codecs/codecs.hpp"
#include "rtc/rtcp/rtcp_packet.hpp"
#include "rtc/rtcp/twcc.hpp"
#include "rtc/sdp/session_description.hpp"

namespace parlor::load {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {
constexpr uint8_t kOpusPt = 111;
constexpr uint8_t kVp8Pt = 96;
constexpr uint32_t kAudioClock = 48000;
constexpr uint32_t kVideoClock = 90000;
constexpr auto kAudioPacketInterval = std::chrono::milliseconds(20);
// Datagrams stay ≤ 1200 bytes: RTP header with extensions (≤ 24 bytes here) and the SRTP tag.
constexpr size_t kMaxDatagram = 1200;
constexpr size_t kMaxRtpHeader = 24;
constexpr size_t kSrtpTag = 16;
constexpr size_t kMaxPayload = kMaxDatagram - kMaxRtpHeader - kSrtpTag;
// Keyframes are this many times an average frame.
constexpr size_t kKeyframeFactor = 3;
// Packets kept per outgoing stream to answer NACKs (~0.5 s of the top layer).
constexpr size_t kNackCache = 96;
constexpr auto kReportInterval = std::chrono::seconds(1);
constexpr auto kFeedbackInterval = std::chrono::milliseconds(100);
// A frame due this late is skipped rather than sent in a burst (the thread was starved).
constexpr auto kMaxLateness = std::chrono::milliseconds(500);
constexpr const char* kExtMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
constexpr const char* kExtRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
constexpr const char* kExtTwcc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
constexpr const char* kExtAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
constexpr const char* kRids[3] = {"q", "h", "f"};

uint32_t random_u32() {
  uint32_t v = 0;
  RAND_bytes(reinterpret_cast<uint8_t*>(&v), sizeof(v));
  return v | 1u;
}

uint64_t ntp_now() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  constexpr uint64_t kNtpEpochOffset = 2208988800ULL;  // 1900 → 1970
  uint64_t secs = static_cast<uint64_t>(us / 1000000) + kNtpEpochOffset;
  uint64_t frac = (static_cast<uint64_t>(us % 1000000) << 32) / 1000000;
  return (secs << 32) | frac;
}

int64_t micros(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
}  // namespace

// One outgoing RTP stream with its NACK cache.
struct LoadPeer::Layer {
  bool video = false;
  int index = 0;  // simulcast layer (0 for audio and single-layer video)
  std::string mid, rid;
  uint32_t ssrc = 0;
  uint16_t sequence = 0;
  uint32_t timestamp_base = 0;
  uint16_t picture_id = 0;
  size_t frame_bytes = 0;  // average frame (video) or packet (audio) payload
  uint16_t width = 0, height = 0;
  PacketTag tag;  // track, layer, next index
  bool keyframe_wanted = true;
  Clock::time_point next_due{}, last_keyframe{};
  std::chrono::microseconds period{};
  uint64_t packets = 0, bytes = 0;
  uint32_t last_rtp_timestamp = 0;
  std::array<std::array<uint8_t, kMaxDatagram>, kNackCache> cache{};
  std::array<uint16_t, kNackCache> cache_len{};
  std::array<uint16_t, kNackCache> cache_seq{};
};

// transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01): arrival times of
// the transport-wide sequence numbers since the last feedback, in a fixed ring.
struct LoadPeer::Twcc {
  static constexpr size_t kRing = 2048;
  std::array<int64_t, kRing> arrival{};  // −1: not received
  rtc::SequenceUnwrapper unwrap;
  bool started = false;
  uint64_t base = 0, highest = 0;
  uint8_t count = 0;

  void on_packet(uint16_t seq, int64_t now_us) {
    uint64_t ext = unwrap.unwrap(seq);
    if (!started) {
      started = true;
      base = highest = ext;
      arrival.fill(-1);
    }
    if (ext < base) return;  // already reported
    if (ext > highest) {
      if (ext - base >= kRing) {  // too far ahead: report from here on
        arrival.fill(-1);
        base = ext;
      } else {
        for (uint64_t s = highest + 1; s < ext; ++s) arrival[s % kRing] = -1;
      }
      highest = ext;
    }
    arrival[ext % kRing] = now_us;
  }

  // One feedback packet for [base, highest]; 0 when there is nothing to report.
  size_t build(std::span<uint8_t> out, uint32_t sender_ssrc) {
    if (!started || base > highest) return 0;
    int64_t reference = -1;
    for (uint64_t s = base; s <= highest && reference < 0; ++s) reference = arrival[s % kRing];
    if (reference < 0) return 0;
    rtc::rtcp::TwccFeedbackBuilder b(static_cast<uint16_t>(base), reference, count);
    uint64_t s = base;
    for (; s <= highest; ++s) {
      int64_t a = arrival[s % kRing];
      bool ok = a >= 0 ? b.add_received(a) : b.add_missing();
      if (!ok) break;
    }
    if (b.packet_count() == 0) return 0;
    size_t n = b.build(out, sender_ssrc, 0);
    if (n) {
      base = s;
      ++count;
    }
    return n;
  }
};

LoadPeer::LoadPeer(GeneratorContext& ctx, Role role, std::string room, std::string identity,
                   std::string token, uint32_t publisher_index)
    : ctx_(ctx),
      role_(role),
      room_(std::move(room)),
      identity_(std::move(identity)),
      token_(std::move(token)),
      publisher_index_(publisher_index) {
  rtcp_ssrc_ = random_u32();
}

LoadPeer::~LoadPeer() = default;

double LoadPeer::since_start_ms(Clock::time_point t) const {
  return std::chrono::duration<double, std::milli>(t - started_at_).count();
}

void LoadPeer::fail(const std::string& why) {
  if (!error_.empty() || leaving_) return;
  error_ = why;
  ctx_.live.failed.fetch_add(1, std::memory_order_relaxed);
  if (transport_) transport_->close();
  if (ws_) {
    beast::error_code ec;
    beast::get_lowest_layer(*ws_).socket().close(ec);
  }
}

void LoadPeer::start() {
  started_at_ = Clock::now();
  ws_ = std::make_unique<websocket::stream<beast::tcp_stream>>(ctx_.io);
  transport_ = std::make_unique<ClientTransport>(ctx_.io, ctx_.certificate,
                                                 static_cast<ClientTransport::Owner&>(*this));
  std::string target =
      "/rtc?access_token=" + token_ + "&auto_subscribe=1&sdk=cpp&version=parlor-load&protocol=16";
  beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds(15));
  beast::get_lowest_layer(*ws_).async_connect(ctx_.server, [this, target](beast::error_code ec) {
    if (ec) return fail("connect: " + ec.message());
    beast::get_lowest_layer(*ws_).expires_never();
    ws_->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws_->async_handshake(ctx_.host_header, target, [this](beast::error_code ec) {
      if (ec) return fail("WebSocket upgrade: " + ec.message());
      ws_->binary(true);
      read();
    });
  });
}

void LoadPeer::read() {
  ws_->async_read(read_buffer_, [this](beast::error_code ec, size_t) {
    if (ec) {
      if (!leaving_) fail("signal closed: " + ec.message());
      return;
    }
    livekit::SignalResponse r;
    auto data = read_buffer_.data();
    bool ok = r.ParseFromArray(data.data(), static_cast<int>(data.size()));
    read_buffer_.consume(read_buffer_.size());
    if (!ok) return fail("unparseable SignalResponse");
    if (auto caught = guarded([&] { on_signal(r); })) return fail(caught->message);
    if (error_.empty()) read();
  });
}

void LoadPeer::send(const livekit::SignalRequest& req) {
  if (!ws_ || !error_.empty()) return;
  write_queue_.push_back(req.SerializeAsString());
  if (!writing_) write_next();
}

void LoadPeer::write_next() {
  if (write_queue_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  ws_->async_write(boost::asio::buffer(write_queue_.front()), [this](beast::error_code ec, size_t) {
    write_queue_.pop_front();
    if (ec) {
      writing_ = false;
      if (!leaving_) fail("signal write: " + ec.message());
      return;
    }
    if (leaving_ && write_queue_.empty()) {
      writing_ = false;
      ws_->async_close(websocket::close_code::normal, [](beast::error_code) {});
      return;
    }
    write_next();
  });
}

void LoadPeer::on_signal(const livekit::SignalResponse& r) {
  using R = livekit::SignalResponse;
  switch (r.message_case()) {
    case R::kJoin:
      on_join(r.join());
      break;
    case R::kAnswer:
      on_answer(r.answer());
      break;
    case R::kOffer:
      on_offer(r.offer());
      break;
    case R::kLeave:
      if (!leaving_)
        fail("the server sent leave (reason " + std::to_string(r.leave().reason()) + ")");
      break;
    default:
      break;
  }
}

void LoadPeer::on_join(const livekit::JoinResponse& join) {
  if (join_ms_) return;
  join_ms_ = since_start_ms(Clock::now());
  ctx_.live.joined.fetch_add(1, std::memory_order_relaxed);
  if (join.ping_interval() > 0) ping_interval_ = std::chrono::seconds(join.ping_interval());
  next_ping_ = Clock::now() + ping_interval_;
  if (role_ == Role::kPublisher) publish();
}

// AddTrackRequests, then the publisher offer (spec §4.5).
void LoadPeer::publish() {
  const auto& m = ctx_.media;
  std::string audio_cid = "A-" + identity_, video_cid = "V-" + identity_;
  {
    livekit::SignalRequest req;
    auto* t = req.mutable_add_track();
    t->set_cid(audio_cid);
    t->set_name("microphone");
    t->set_type(livekit::AUDIO);
    t->set_source(livekit::MICROPHONE);
    t->set_disable_red(true);
    t->add_simulcast_codecs()->set_codec("opus");
    t->mutable_simulcast_codecs(0)->set_cid(audio_cid);
    send(req);
  }
  auto layer_count = m.simulcast ? 3 : 1;
  if (!m.audio_only) {
    livekit::SignalRequest req;
    auto* t = req.mutable_add_track();
    t->set_cid(video_cid);
    t->set_name("camera");
    t->set_type(livekit::VIDEO);
    t->set_source(livekit::CAMERA);
    t->set_width(m.layer_width[2]);
    t->set_height(m.layer_height[2]);
    auto* codec = t->add_simulcast_codecs();
    codec->set_codec("vp8");
    codec->set_cid(video_cid);
    for (int l = 3 - layer_count; l < 3; ++l) {
      auto* layer = t->add_layers();
      layer->set_quality(static_cast<livekit::VideoQuality>(layer_count == 1 ? 2 : l));
      layer->set_width(m.layer_width[l]);
      layer->set_height(m.layer_height[l]);
      layer->set_bitrate(static_cast<uint32_t>(m.layer_bps[l]));
      if (layer_count > 1) layer->set_rid(kRids[l]);
      *codec->add_layers() = *layer;
    }
    send(req);
  }
  livekit::SignalRequest req;
  req.mutable_offer()->set_type("offer");
  req.mutable_offer()->set_sdp(publisher_offer());
  req.mutable_offer()->set_id(1);
  send(req);
}

// The outgoing streams and the SDP offer that announces them (mid 0 audio, mid 1 video).
std::string LoadPeer::publisher_offer() {
  const auto& m = ctx_.media;
  std::string stream = "stream-" + identity_;
  std::string audio_cid = "A-" + identity_, video_cid = "V-" + identity_;
  auto layer_count = m.simulcast ? 3 : 1;
  layers_.clear();
  // Outgoing streams: audio (track key 2i), video layers (2i + 1).
  auto audio = std::make_unique<Layer>();
  audio->mid = "0";
  audio->ssrc = random_u32();
  audio->sequence = static_cast<uint16_t>(random_u32());
  audio->timestamp_base = random_u32();
  audio->frame_bytes = static_cast<size_t>(m.audio_bps / 8 / 50);
  audio->tag = {publisher_index_ * 2, 0, 0};
  audio->period = kAudioPacketInterval;
  layers_.push_back(std::move(audio));
  if (!m.audio_only) {
    for (int l = 3 - layer_count; l < 3; ++l) {
      auto v = std::make_unique<Layer>();
      v->video = true;
      v->index = layer_count == 1 ? 0 : l;
      v->mid = "1";
      if (layer_count > 1) v->rid = kRids[l];
      v->ssrc = random_u32();
      v->sequence = static_cast<uint16_t>(random_u32());
      v->timestamp_base = random_u32();
      v->picture_id = static_cast<uint16_t>(random_u32() & 0x7FFF);
      v->frame_bytes = static_cast<size_t>(m.layer_bps[l] / 8 / m.fps);
      v->width = m.layer_width[l];
      v->height = m.layer_height[l];
      v->tag = {publisher_index_ * 2 + 1, static_cast<uint8_t>(v->index), 0};
      v->period = std::chrono::microseconds(1'000'000 / m.fps);
      layers_.push_back(std::move(v));
    }
  }

  std::ostringstream sdp;
  const std::string fp = "sha-256 " + ctx_.certificate.fingerprint();
  sdp << "v=0\r\no=- " << random_u32() << " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
      << "a=group:BUNDLE 0" << (m.audio_only ? "" : " 1") << "\r\na=msid-semantic: WMS " << stream
      << "\r\n";
  auto section_head = [&](const char* kind, int pt, const char* mid) {
    sdp << "m=" << kind << " 9 UDP/TLS/RTP/SAVPF " << pt << "\r\nc=IN IP4 0.0.0.0\r\n"
        << "a=ice-ufrag:" << transport_->local_ufrag()
        << "\r\na=ice-pwd:" << transport_->local_pwd() << "\r\n"
        << "a=ice-options:trickle\r\na=fingerprint:" << fp << "\r\na=setup:actpass\r\na=mid:" << mid
        << "\r\n"
        << "a=extmap:" << int(kExtMidId) << " " << kExtMid << "\r\n"
        << "a=extmap:" << int(kExtTransportCcId) << " " << kExtTwcc << "\r\n";
  };
  section_head("audio", kOpusPt, "0");
  sdp << "a=extmap:" << int(kExtAudioLevelId) << " " << kExtAudioLevel << "\r\n"
      << "a=sendonly\r\na=msid:" << stream << " " << audio_cid << "\r\na=rtcp-mux\r\n"
      << "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 "
         "minptime=10;useinbandfec=1\r\n"
      << "a=ssrc:" << layers_[0]->ssrc << " cname:" << identity_ << "\r\n"
      << "a=ssrc:" << layers_[0]->ssrc << " msid:" << stream << " " << audio_cid << "\r\n";
  if (!m.audio_only) {
    section_head("video", kVp8Pt, "1");
    sdp << "a=extmap:" << int(kExtRidId) << " " << kExtRid << "\r\n"
        << "a=sendonly\r\na=msid:" << stream << " " << video_cid
        << "\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
        << "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 transport-cc\r\n"
        << "a=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n";
    if (layer_count > 1) {
      for (int l = 0; l < 3; ++l) sdp << "a=rid:" << kRids[l] << " send\r\n";
      sdp << "a=simulcast:send q;h;f\r\n";
    } else {
      sdp << "a=ssrc:" << layers_[1]->ssrc << " cname:" << identity_ << "\r\n"
          << "a=ssrc:" << layers_[1]->ssrc << " msid:" << stream << " " << video_cid << "\r\n";
    }
  }
  return sdp.str();
}

// The server's ICE candidate, credentials and fingerprint from its SDP; starts ICE.
void LoadPeer::start_transport(const std::string& sdp_text) {
  if (transport_->started()) return;
  auto sdp = rtc::SessionDescription::parse(sdp_text);
  std::string ufrag, pwd, fingerprint, setup;
  std::optional<boost::asio::ip::udp::endpoint> remote;
  for (const auto& m : sdp.media) {
    if (ufrag.empty() && !m.ice_ufrag.empty()) {
      ufrag = m.ice_ufrag;
      pwd = m.ice_pwd;
      fingerprint = m.fingerprint;
      setup = m.setup;
    }
    for (auto c : m.attribute_values("candidate")) {
      // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
      std::istringstream in{std::string(c)};
      std::string foundation, component, transport, priority, address, port;
      in >> foundation >> component >> transport >> priority >> address >> port;
      if (remote || (transport != "udp" && transport != "UDP")) continue;
      boost::system::error_code ec;
      auto ip = boost::asio::ip::make_address(address, ec);
      if (!ec && ip.is_v4())
        remote = boost::asio::ip::udp::endpoint(ip, static_cast<uint16_t>(std::stoi(port)));
    }
  }
  if (!remote) throw std::runtime_error("the server's SDP has no UDP candidate");
  if (ufrag.empty() || fingerprint.empty())
    throw std::runtime_error("the server's SDP lacks ICE credentials or a fingerprint");
  // "sha-256 AB:CD..." → the value DtlsTransport compares.
  auto space = fingerprint.find(' ');
  // Our offers say actpass and our answers active: we are the DTLS client unless the answerer
  // took that role (Janus answers a=setup:active).
  auto role =
      setup == "active" ? rtc::DtlsTransport::Role::kServer : rtc::DtlsTransport::Role::kClient;
  transport_->start(*remote, ufrag, pwd,
                    space == std::string::npos ? fingerprint : fingerprint.substr(space + 1), role);
}

void LoadPeer::on_answer(const livekit::SessionDescription& sd) {
  if (role_ != Role::kPublisher) return;
  start_transport(sd.sdp());
}

// The subscriber connection (spec §4.6, v0): answer every server offer, recvonly, without data
// channels (the application section is rejected: we never use them).
void LoadPeer::on_offer(const livekit::SessionDescription& sd) {
  if (role_ != Role::kSubscriber) return;
  livekit::SignalRequest req;
  req.mutable_answer()->set_type("answer");
  req.mutable_answer()->set_sdp(subscriber_answer(sd.sdp()));
  req.mutable_answer()->set_id(sd.id());
  send(req);
  start_transport(sd.sdp());
}

std::string LoadPeer::subscriber_answer(const std::string& offer_sdp) {
  auto offer = rtc::SessionDescription::parse(offer_sdp);
  const std::string fp = "sha-256 " + ctx_.certificate.fingerprint();
  std::ostringstream body;
  std::string bundle;
  for (const auto& m : offer.media) {
    if (m.kind != "audio" && m.kind != "video") {
      body << "m=" << m.kind << " 0 " << m.proto << " " << (m.formats.empty() ? "0" : m.formats[0])
           << "\r\n"
           << "c=IN IP4 0.0.0.0\r\na=mid:" << m.mid() << "\r\n";
      continue;
    }
    bool video = m.kind == "video";
    std::optional<rtc::SdpCodec> codec;
    for (const auto& c : m.codecs()) {
      auto kind = rtc::codec_from_name(c.name);
      if (!codec && ((video && kind == rtc::Codec::kVp8) || (!video && kind == rtc::Codec::kOpus)))
        codec = c;
    }
    if (!codec) {
      body << "m=" << m.kind << " 0 " << m.proto << " " << (m.formats.empty() ? "0" : m.formats[0])
           << "\r\n"
           << "c=IN IP4 0.0.0.0\r\na=mid:" << m.mid() << "\r\n";
      continue;
    }
    video_pt_[static_cast<uint8_t>(codec->payload_type)] = video;
    for (uint32_t ssrc : m.ssrcs()) video_ssrc_[ssrc] = video;
    int twcc = 0;
    for (const auto& e : m.extensions()) {
      if (e.uri == kExtTwcc) twcc = e.id;
    }
    if (ctx_.media.transport_cc && twcc) twcc_ext_ = twcc;
    bundle += " " + m.mid();
    body << "m=" << m.kind << " 9 UDP/TLS/RTP/SAVPF " << codec->payload_type
         << "\r\nc=IN IP4 0.0.0.0\r\n"
         << "a=ice-ufrag:" << transport_->local_ufrag()
         << "\r\na=ice-pwd:" << transport_->local_pwd() << "\r\n"
         << "a=fingerprint:" << fp << "\r\na=setup:active\r\na=mid:" << m.mid() << "\r\n";
    if (ctx_.media.transport_cc && twcc) body << "a=extmap:" << twcc << " " << kExtTwcc << "\r\n";
    auto dir = m.direction();
    body << (dir == rtc::SdpDirection::kSendOnly || dir == rtc::SdpDirection::kSendRecv
                 ? "a=recvonly"
                 : "a=inactive")
         << "\r\na=rtcp-mux\r\na=rtpmap:" << codec->payload_type << " " << codec->name << "/"
         << codec->clock_rate << (codec->channels ? "/" + std::to_string(codec->channels) : "")
         << "\r\n";
    if (!codec->fmtp.empty())
      body << "a=fmtp:" << codec->payload_type << " " << codec->fmtp << "\r\n";
    if (ctx_.media.transport_cc && twcc)
      body << "a=rtcp-fb:" << codec->payload_type << " transport-cc\r\n";
    if (video) body << "a=rtcp-fb:" << codec->payload_type << " nack pli\r\n";
  }
  std::ostringstream sdp;
  sdp << "v=0\r\no=- " << random_u32() << " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
      << "a=ice-ufrag:" << transport_->local_ufrag() << "\r\na=ice-pwd:" << transport_->local_pwd()
      << "\r\n"
      << "a=fingerprint:" << fp << "\r\na=setup:active\r\n";
  if (!bundle.empty()) sdp << "a=group:BUNDLE" << bundle << "\r\n";
  sdp << "a=msid-semantic: WMS\r\n" << body.str();
  if (twcc_ext_ && !twcc_) twcc_ = std::make_unique<Twcc>();
  return sdp.str();
}

// ---- external signalling (Janus): called on this peer's generator thread -------------------

void LoadPeer::start_external() {
  started_at_ = Clock::now();
  transport_ = std::make_unique<ClientTransport>(ctx_.io, ctx_.certificate,
                                                 static_cast<ClientTransport::Owner&>(*this));
  external_ = true;
}

void LoadPeer::external_joined() {
  if (join_ms_) return;
  join_ms_ = since_start_ms(Clock::now());
  ctx_.live.joined.fetch_add(1, std::memory_order_relaxed);
}

std::string LoadPeer::external_offer() {
  return publisher_offer();
}

void LoadPeer::external_answer(const std::string& answer_sdp) {
  if (auto caught = guarded([&] { start_transport(answer_sdp); })) fail(caught->message);
}

std::string LoadPeer::external_offer_answered(const std::string& offer_sdp) {
  std::string answer;
  if (auto caught = guarded([&] {
        answer = subscriber_answer(offer_sdp);
        start_transport(offer_sdp);
      })) {
    fail(caught->message);
  }
  return answer;
}

void LoadPeer::external_failed(const std::string& why) {
  fail(why);
}

std::string LoadPeer::external_candidate() const {
  auto e = transport_ ? transport_->local_endpoint() : std::nullopt;
  if (!e) return {};
  // RFC 8445 §5.1.2.1 host priority, component 1.
  return "candidate:1 1 udp 2130706431 " + e->address().to_string() + " " +
         std::to_string(e->port()) + " typ host";
}

void LoadPeer::on_connected(rtc::SrtpProfile profile) {
  srtp_profile_ =
      profile == rtc::SrtpProfile::kAeadAes128Gcm ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80";
  if (role_ == Role::kPublisher) {
    media_epoch_ = Clock::now();
    for (auto& l : layers_) l->next_due = media_epoch_;
    next_report_ = media_epoch_ + kReportInterval;
  } else {
    next_report_ = Clock::now() + kReportInterval;
    next_feedback_ = Clock::now() + kFeedbackInterval;
  }
}

void LoadPeer::on_failed(const std::string& reason) {
  fail(reason);
}

void LoadPeer::tick(Clock::time_point now) {
  if (!error_.empty() || leaving_ || !transport_) return;
  transport_->tick(now);
  if (join_ms_ && !external_ && now >= next_ping_) {
    next_ping_ = now + ping_interval_;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    livekit::SignalRequest ping;
    ping.set_ping(ms);
    send(ping);
    livekit::SignalRequest ping_req;
    ping_req.mutable_ping_req()->set_timestamp(ms);
    send(ping_req);
  }
  if (!transport_->connected()) return;
  if (role_ == Role::kPublisher) {
    if (ctx_.media_stopped.load(std::memory_order_relaxed)) return;
    for (auto& l : layers_) {
      if (now - l->next_due > kMaxLateness) l->next_due = now;
      while (now >= l->next_due) {
        if (l->video) {
          send_video_frame(*l, now);
        } else {
          send_audio_packet(*l);
        }
        l->next_due += l->period;
      }
    }
    if (!media_ms_) {
      media_ms_ = since_start_ms(now);
      ctx_.live.media_ready.fetch_add(1, std::memory_order_relaxed);
    }
    if (now >= next_report_) {
      next_report_ = now + kReportInterval;
      send_sender_reports(now);
    }
  } else {
    if (ctx_.books_closed.load(std::memory_order_relaxed)) return;
    if (now >= next_report_) {
      next_report_ = now + kReportInterval;
      send_receiver_reports();
    }
    if (twcc_ && now >= next_feedback_) {
      next_feedback_ = now + kFeedbackInterval;
      send_transport_feedback(now);
    }
  }
}

void LoadPeer::send_packet(Layer& layer, std::span<uint8_t> packet) {
  size_t slot = layer.sequence % kNackCache;
  std::memcpy(layer.cache[slot].data(), packet.data(), packet.size());
  layer.cache_len[slot] = static_cast<uint16_t>(packet.size());
  layer.cache_seq[slot] = layer.sequence;
  if (transport_->send_rtp(packet)) {
    ++layer.packets;
    layer.bytes += packet.size();
    ctx_.live.tx_packets.fetch_add(1, std::memory_order_relaxed);
    ctx_.live.tx_bytes.fetch_add(packet.size(), std::memory_order_relaxed);
  }
  ++layer.sequence;
  ++layer.tag.index;  // counted whether or not the socket took it: the books see it as lost
}

void LoadPeer::send_video_frame(Layer& layer, Clock::time_point now) {
  bool key = layer.keyframe_wanted || now - layer.last_keyframe >= ctx_.media.keyframe_interval;
  if (key) {
    layer.keyframe_wanted = false;
    layer.last_keyframe = now;
  }
  Vp8FrameSpec frame;
  frame.keyframe = key;
  frame.picture_id = layer.picture_id;
  layer.picture_id = static_cast<uint16_t>((layer.picture_id + 1) & 0x7FFF);
  frame.frame_bytes = layer.frame_bytes * (key ? kKeyframeFactor : 1);
  frame.width = layer.width;
  frame.height = layer.height;
  auto elapsed =
      std::chrono::duration_cast<std::chrono::microseconds>(layer.next_due - media_epoch_).count();
  uint32_t ts = layer.timestamp_base + static_cast<uint32_t>(elapsed * kVideoClock / 1'000'000);
  layer.last_rtp_timestamp = ts;
  size_t count = vp8_packet_count(frame, kMaxPayload);
  for (size_t i = 0; i < count; ++i) {
    RtpHeaderSpec h;
    h.payload_type = kVp8Pt;
    h.marker = i + 1 == count;
    h.sequence = layer.sequence;
    h.timestamp = ts;
    h.ssrc = layer.ssrc;
    h.mid = layer.mid;
    h.rid = layer.rid;
    h.transport_cc = true;
    h.transport_sequence = transport_sequence_++;
    size_t header = write_rtp_header(packet_, h);
    size_t payload = write_vp8_payload(std::span(packet_).subspan(header), frame, i, count,
                                       kMaxPayload, layer.tag);
    if (!header || !payload) continue;
    send_packet(layer, std::span(packet_.data(), header + payload));
  }
}

void LoadPeer::send_audio_packet(Layer& layer) {
  uint32_t ts = layer.timestamp_base + static_cast<uint32_t>(layer.packets * (kAudioClock / 50));
  layer.last_rtp_timestamp = ts;
  RtpHeaderSpec h;
  h.payload_type = kOpusPt;
  h.sequence = layer.sequence;
  h.timestamp = ts;
  h.ssrc = layer.ssrc;
  h.mid = layer.mid;
  h.transport_cc = true;
  h.transport_sequence = transport_sequence_++;
  h.audio_level = true;
  h.level = 0x80 | 30;  // voiced, −30 dBov
  size_t header = write_rtp_header(packet_, h);
  size_t payload =
      write_opus_payload(std::span(packet_).subspan(header), layer.frame_bytes, layer.tag);
  if (!header || !payload) return;
  send_packet(layer, std::span(packet_.data(), header + payload));
}

void LoadPeer::retransmit(uint32_t ssrc, uint16_t sequence) {
  for (auto& l : layers_) {
    if (l->ssrc != ssrc) continue;
    size_t slot = sequence % kNackCache;
    if (l->cache_len[slot] && l->cache_seq[slot] == sequence) {
      if (transport_->send_rtp({l->cache[slot].data(), l->cache_len[slot]})) ++retransmitted_;
    }
    return;
  }
}

void LoadPeer::send_sender_reports(Clock::time_point) {
  std::array<uint8_t, 64> buf{};
  uint64_t ntp = ntp_now();
  for (auto& l : layers_) {
    if (!l->packets) continue;
    rtc::rtcp::SenderInfo info;
    info.ssrc = l->ssrc;
    info.ntp_time = ntp;
    info.rtp_time = l->last_rtp_timestamp;
    info.packet_count = static_cast<uint32_t>(l->packets);
    info.octet_count = static_cast<uint32_t>(l->bytes);
    if (size_t n = rtc::rtcp::build_sender_report(buf, info, {}))
      transport_->send_rtcp({buf.data(), n});
  }
}

void LoadPeer::send_receiver_reports() {
  // RFC 3550 §6.4.2: at most 31 blocks per report.
  std::array<rtc::rtcp::ReportBlock, 31> blocks{};
  size_t n = 0;
  for (const auto& [ssrc, account] : streams_) {
    if (n == blocks.size()) break;
    const auto& c = account.counters();
    auto& b = blocks[n++];
    b.ssrc = ssrc;
    b.cumulative_lost = static_cast<int32_t>(std::min<uint64_t>(c.lost, 0x7FFFFF));
    b.fraction_lost =
        c.expected() ? static_cast<uint8_t>(std::min<uint64_t>(255, c.lost * 256 / c.expected()))
                     : 0;
    b.highest_sequence = static_cast<uint32_t>(c.highest_seq);
    b.jitter = static_cast<uint32_t>(account.jitter_ms() *
                                     (video_ssrc_.count(ssrc) && video_ssrc_[ssrc] ? 90 : 48));
  }
  std::array<uint8_t, 8 + 31 * 24> buf{};
  if (size_t len = rtc::rtcp::build_receiver_report(buf, rtcp_ssrc_, std::span(blocks.data(), n))) {
    transport_->send_rtcp({buf.data(), len});
  }
}

void LoadPeer::send_transport_feedback(Clock::time_point) {
  std::array<uint8_t, rtc::rtcp::TwccFeedbackBuilder::kMaxSize> buf{};
  // A long gap since the last one can need several packets.
  for (int i = 0; i < 8; ++i) {
    size_t n = twcc_->build(buf, rtcp_ssrc_);
    if (!n) break;
    if (transport_->send_rtcp({buf.data(), n})) ++feedbacks_sent_;
  }
}

void LoadPeer::on_rtp(rtc::RtpPacketView& packet, size_t datagram_bytes) {
  if (role_ != Role::kSubscriber) return;
  auto now = Clock::now();
  if (twcc_ && twcc_ext_) {
    if (auto v = packet.extension(static_cast<uint8_t>(twcc_ext_)); v && v->size() >= 2) {
      twcc_->on_packet(static_cast<uint16_t>(((*v)[0] << 8) | (*v)[1]), micros(now));
    }
  }
  if (ctx_.books_closed.load(std::memory_order_relaxed)) return;
  bool video = false;
  if (auto it = video_pt_.find(packet.payload_type()); it != video_pt_.end()) {
    video = it->second;
  } else if (auto s = video_ssrc_.find(packet.ssrc()); s != video_ssrc_.end()) {
    video = s->second;
  }
  auto it = streams_.find(packet.ssrc());
  if (it == streams_.end())
    it = streams_.emplace(packet.ssrc(), StreamAccount(video ? kVideoClock : kAudioClock)).first;
  auto payload = packet.payload();
  auto tag = read_tag(payload);
  bool key = video && rtc::vp8_starts_keyframe(payload);
  uint64_t lost_before = it->second.counters().lost;
  it->second.on_packet(packet.sequence(), packet.timestamp(), micros(now), payload.size(),
                       tag ? &*tag : nullptr, key);
  uint64_t lost_after = it->second.counters().lost;
  if (lost_after > lost_before)
    ctx_.live.rx_lost.fetch_add(lost_after - lost_before, std::memory_order_relaxed);
  ctx_.live.rx_packets.fetch_add(1, std::memory_order_relaxed);
  ctx_.live.rx_bytes.fetch_add(datagram_bytes, std::memory_order_relaxed);
  if (!media_ms_) {
    media_ms_ = since_start_ms(now);
    ctx_.live.media_ready.fetch_add(1, std::memory_order_relaxed);
  }
}

void LoadPeer::on_rtcp(std::span<const uint8_t> compound) {
  if (role_ != Role::kPublisher) return;
  rtc::rtcp::CompoundIterator it(compound);
  while (auto h = it.next()) {
    if (h->type == rtc::rtcp::kPayloadFeedback &&
        (h->count == rtc::rtcp::kFmtPli || h->count == rtc::rtcp::kFmtFir)) {
      auto want = [&](uint32_t ssrc) {
        for (auto& l : layers_) {
          if (l->ssrc == ssrc) l->keyframe_wanted = true;
        }
      };
      if (h->count == rtc::rtcp::kFmtPli) {
        if (auto ids = rtc::rtcp::read_feedback_ids(*h)) want(ids->media_ssrc);
      } else {
        rtc::rtcp::for_each_fir(*h, [&](uint32_t ssrc, uint8_t) { want(ssrc); });
      }
      ++plis_;
    } else if (h->type == rtc::rtcp::kRtpFeedback && h->count == rtc::rtcp::kFmtNack) {
      auto ids = rtc::rtcp::read_feedback_ids(*h);
      if (!ids) continue;
      rtc::rtcp::for_each_nack(*h, [&](uint16_t seq) {
        ++nacks_;
        retransmit(ids->media_ssrc, seq);
      });
    }
  }
}

void LoadPeer::leave() {
  if (leaving_) return;
  if (ws_ && error_.empty() && join_ms_) {
    livekit::SignalRequest req;
    req.mutable_leave()->set_reason(livekit::CLIENT_INITIATED);
    send(req);
  }
  leaving_ = true;
  if (transport_) transport_->close();
  if (ws_ && !writing_) {
    beast::error_code ec;
    beast::get_lowest_layer(*ws_).socket().close(ec);
  }
}

PeerResult LoadPeer::result() const {
  PeerResult r;
  r.publisher = role_ == Role::kPublisher;
  r.room = room_;
  r.identity = identity_;
  r.join_ms = join_ms_;
  r.media_ms = media_ms_;
  r.error = error_;
  r.srtp_profile = srtp_profile_;
  r.plis = plis_;
  r.nacks = nacks_;
  r.retransmitted = retransmitted_;
  r.feedbacks_sent = feedbacks_sent_;
  if (transport_) r.srtp_errors = transport_->counters().srtp_errors;
  for (const auto& l : layers_) {
    auto it = std::find_if(r.sent.begin(), r.sent.end(),
                           [&](const TrackSent& t) { return t.track == l->tag.track; });
    if (it == r.sent.end()) {
      r.sent.push_back({l->tag.track, l->video, {}, {}});
      it = r.sent.end() - 1;
    }
    it->packets[l->index] = l->tag.index;
    it->bytes[l->index] = l->bytes;
  }
  for (const auto& [ssrc, account] : streams_) {
    StreamResult s;
    s.ssrc = ssrc;
    auto v = video_ssrc_.find(ssrc);
    s.video = v != video_ssrc_.end() && v->second;
    s.track = account.track();
    s.last_tag = account.last_tag();
    s.counters = account.counters();
    s.jitter_ms = account.jitter_ms();
    s.balanced = account.balanced();
    if (s.track) s.video = (*s.track % 2) == 1;
    r.streams.push_back(s);
  }
  return r;
}

}  // namespace parlor::load
