// Participant: offer/answer (spec §4.1–4.7).
//  * v1 (/rtc/v1, one PC): the client offers; its sendonly sections publish, its recvonly
//    sections carry subscriptions; we ask for re-offers with media_sections_requirement.
//  * v0 (/rtc, two PCs, subscriber primary): the client offers on its publisher PC; we offer on
//    the subscriber PC (data channels + one sendonly section per subscription) and it answers.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <map>

#include "common/encoding.hpp"
#include "common/errors.hpp"
#include "rtc/rtcp/rtcp_packet.hpp"
#include "sfu/sdp_answer.hpp"
#include "signal/participant.hpp"
#include "signal/room.hpp"

namespace parlor::signal {

namespace {
constexpr std::string_view kExtMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
constexpr std::string_view kExtRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
constexpr std::string_view kExtRepairedRid = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
constexpr std::string_view kExtAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
constexpr std::string_view kExtTransportCc = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
constexpr uint32_t kRtcpSenderSsrc = 1;
// The transport-cc extension id in our v0 subscriber offers (the one extension we offer there;
// 3 is what Chrome itself uses for it).
constexpr int kSubscriberTwccExt = 3;

uint32_t random_ssrc() {
  auto id = common::random_id("", 8);
  uint32_t v = 0;
  for (char c : id) v = v * 131 + static_cast<unsigned char>(c);
  return v | 0x10000000u;
}

// A SessionDescription message: the SDP with its BUNDLE group, the offer id, mid → track sid.
void fill_description(livekit::SessionDescription& desc, const char* type, rtc::SessionDescription& sdp,
                      const std::string& bundle, uint32_t id, const std::map<std::string, std::string>& mid_to_track) {
  sdp.attributes.insert(sdp.attributes.begin(), {"group", bundle, true});
  desc.set_type(type);
  desc.set_sdp(sdp.serialize());
  desc.set_id(id);
  for (const auto& [mid, track] : mid_to_track) (*desc.mutable_mid_to_track_id())[mid] = track;
}

// What an unused section of the subscriber PC (v0) offers.
rtc::SdpCodec default_codec(bool video) {
  rtc::SdpCodec c;
  c.name = video ? "VP8" : "opus";
  return sfu::subscriber_codec(c);
}
}  // namespace

void Participant::handle_offer(const livekit::SessionDescription& sd) {
  rtc::SessionDescription offer;
  try {
    offer = rtc::SessionDescription::parse(sd.sdp());
  } catch (const BadInput& e) {
    throw BadInput(std::string("invalid SDP offer: ") + e.what());
  }
  // JSEP (RFC 8829 §5.2.1): every section an offer uses carries ICE credentials and a DTLS
  // fingerprint (here or at session level). Refuse before anything changes.
  for (const auto& m : offer.media) {
    if (m.port == 0) continue;
    if (m.ice_ufrag.empty() || m.ice_pwd.empty()) {
      throw BadInput("invalid SDP offer: section mid=" + m.mid() + " has no a=ice-ufrag/a=ice-pwd");
    }
    if (m.fingerprint.empty())
      throw BadInput("invalid SDP offer: section mid=" + m.mid() + " has no a=fingerprint");
  }
  const auto& worker = room_.worker();
  auto answer = sfu::begin_answer(worker, version_);
  std::string bundle = "BUNDLE";
  std::map<std::string, std::string> mid_to_track;
  std::vector<PublishedTrack*> newly_bound;
  bool first_section = true;
  free_slots_.clear();

  for (const auto& m : offer.media) {
    if (!remote_set_ && !m.ice_ufrag.empty()) {
      transport_->set_remote({m.ice_ufrag, m.ice_pwd}, m.fingerprint);
      remote_set_ = true;
      remote_ufrag_ = m.ice_ufrag;
    } else if (remote_set_ && !m.ice_ufrag.empty() && m.ice_ufrag != remote_ufrag_) {
      // ICE restart (JS does one after every resume): new credentials on both sides.
      spdlog::info("room={} participant={} sid={} ICE restart", room_.info().name(), identity(), sid_);
      std::string old_ufrag = transport_->local_ice().ufrag;
      transport_->restart_ice(rtc::generate_ice_credentials(), {m.ice_ufrag, m.ice_pwd});
      room_.worker().rekey(*transport_, old_ufrag);
      remote_ufrag_ = m.ice_ufrag;
    }
    if (m.port == 0) {
      answer.media.push_back(sfu::rejected_section(m));
      continue;
    }
    if (m.kind == "application") {
      auto a = sfu::accepted_section(m, worker, *transport_, first_section);
      auto sctp = sfu::add_sctp_attributes(m, a, room_.config().limit.max_data_packet_bytes);
      if (!sctp) {
        answer.media.push_back(sfu::rejected_section(m));
        continue;
      }
      transport_->enable_sctp(sctp->remote_port, sctp->max_message_size);
      bundle += " " + m.mid();
      first_section = false;
      answer.media.push_back(std::move(a));
      continue;
    }
    auto dir = m.direction();
    bool publishing = dir == rtc::SdpDirection::kSendOnly || dir == rtc::SdpDirection::kSendRecv;
    PublishedTrack* bound = nullptr;  // the track this section published before, if any
    for (auto& t : tracks_) {
      if (t->mid == m.mid()) bound = t.get();
    }
    Subscription* sub = nullptr;
    if (!publishing) {
      // The client stopped sending on this section: unpublish (JS sends no message for it).
      if (bound && bound->published) room_.on_track_unpublished(*this, *bound);
      if (bound) bound->mid.clear();
      bound = nullptr;
      if (single_pc_) sub = assign_slot(m, *transport_);
    }
    // Publishing: the codec the track was announced with, if offered. Receiving: the codec of the
    // track it carries.
    PublishedTrack* publishes = publishing ? (bound ? bound : track_for_section(m)) : nullptr;
    auto codec = sub ? std::optional<rtc::SdpCodec>(sub->codec)
                     : sfu::pick_codec(m, publishes ? publishes->requested : rtc::Codec::kUnknown);
    if (!codec) {
      answer.media.push_back(sfu::rejected_section(m));
      continue;
    }
    auto a = sfu::accepted_section(m, worker, *transport_, first_section);
    first_section = false;
    bundle += " " + m.mid();
    const auto& extensions = m.extensions();
    bool transport_cc = std::any_of(extensions.begin(), extensions.end(), [](const auto& e) { return e.uri == kExtTransportCc; });
    sfu::add_codec(a, *codec, transport_cc);
    // RTX (RFC 4588) for video: the publisher's retransmissions and probes come on their own
    // stream; a subscriber's come from us on one.
    if (publishing && publishes && m.kind == "video") {
      auto rtx = sfu::find_rtx(m, codec->payload_type);
      if (rtx) sfu::add_rtx(a, *rtx, codec->payload_type);
      publishes->rtx_payload_type = rtx ? rtx->payload_type : -1;
    } else if (sub && sub->rtx) {
      sfu::add_rtx(a, *sub->rtx, sub->codec.payload_type);
    }
    // Opus RED (RFC 2198): the publisher sends it unless its AddTrackRequest disabled it; a
    // subscriber gets it if it takes it, else the primary encoding alone.
    if (publishing && publishes && m.kind == "audio") {
      auto red = publishes->info.disable_red() ? std::nullopt : sfu::find_red(m, codec->payload_type);
      if (red) sfu::add_red(a, *red, codec->payload_type);
      publishes->red_payload_type = red ? red->payload_type : -1;
      if (publishes->up) publishes->up->set_red_payload_type(red ? static_cast<uint8_t>(red->payload_type) : 0);
    } else if (sub && sub->red) {
      sfu::add_red(a, *sub->red, sub->codec.payload_type);
    }
    // Header extensions are negotiated per BUNDLE transport: accept the same ones on every
    // section, or Chrome refuses later simulcast offers. Forwarded packets carry none.
    for (const auto& e : extensions) {
      if (e.uri == kExtMid || e.uri == kExtRid || e.uri == kExtRepairedRid || e.uri == kExtTransportCc ||
          (e.uri == kExtAudioLevel && m.kind == "audio")) {
        a.add("extmap", std::to_string(e.id) + " " + e.uri);
      }
      if (e.uri == kExtMid) mid_ext_ = e.id;
      if (e.uri == kExtRid) rid_ext_ = e.id;
      if (e.uri == kExtRepairedRid) repaired_rid_ext_ = e.id;
      if (e.uri == kExtAudioLevel) audio_level_ext_ = e.id;
      if (e.uri == kExtTransportCc) twcc_ext_ = e.id;
    }

    if (publishing) {
      if (!bound && publishes) {
        bound = publishes;
        bind_section(*bound, m, *codec);
        newly_bound.push_back(bound);
      }
      a.set_direction(rtc::SdpDirection::kRecvOnly);
      if (bound && bound->rids.size() > 1) {
        std::string list;
        for (const auto& rid : bound->rids) {
          a.add("rid", rid + " recv");
          list += (list.empty() ? "" : ";") + rid;
        }
        a.add("simulcast", "recv " + list);
      }
      if (bound) mid_to_track[m.mid()] = bound->info.sid();
    } else if (sub) {
      add_send_attributes(a, *sub);
      mid_to_track[m.mid()] = sub->track_sid;
    } else {
      a.set_direction(rtc::SdpDirection::kInactive);
      if (single_pc_) free_slots_.push_back({m.mid(), m.kind, m});
    }
    answer.media.push_back(std::move(a));
  }
  livekit::SignalResponse r;
  fill_description(*r.mutable_answer(), "answer", answer, bundle, sd.id(), mid_to_track);
  send(r);

  for (auto* t : newly_bound) {
    if (!t->published) {
      t->published = true;
      ++version_;
      room_.on_track_published(*this, *t);
    }
  }
  if (single_pc_) {
    apply_transport_cc();
    negotiation_requested_ = false;
    refuse_undecodable_subscriptions();
    bool waiting = std::any_of(subscriptions_.begin(), subscriptions_.end(),
                               [](auto& s) { return s->mid.empty() && !s->codec_unsupported; });
    if (waiting) request_negotiation();
  }
}

// A waiting subscription whose codec none of the client's free sections of its kind offers
// cannot be received by this client (say, H.264 to a browser built without it): tell it once,
// as LiveKit does, instead of asking for sections forever.
void Participant::refuse_undecodable_subscriptions() {
  for (auto& s : subscriptions_) {
    if (!s->mid.empty() || !s->track || s->codec_unsupported || s->track->codec.name.empty()) continue;
    bool video = s->track->info.type() == livekit::VIDEO;
    const rtc::SdpMedia* free_section = nullptr;
    for (const auto& slot : free_slots_) {
      if ((slot.kind == "video") == video) free_section = &slot.offered;
    }
    if (!free_section || sfu::match_codec(*free_section, s->track->codec)) continue;
    s->codec_unsupported = true;
    livekit::SignalResponse r;
    r.mutable_subscription_response()->set_track_sid(s->track_sid);
    r.mutable_subscription_response()->set_err(livekit::SE_CODEC_UNSUPPORTED);
    send(r);
  }
}

PublishedTrack* Participant::track_for_section(const rtc::SdpMedia& m) {
  auto [stream_id, track_id] = m.msid();
  for (auto& t : tracks_) {
    if (t->mid.empty() && t->cid == track_id) return t.get();
  }
  for (auto& t : tracks_) {
    bool same_kind = (t->info.type() == livekit::VIDEO) == (m.kind == "video");
    if (t->mid.empty() && !t->published && same_kind) return t.get();
  }
  return nullptr;
}

// Binds an offered sendonly section to the AddTrackRequest it carries.
void Participant::bind_section(PublishedTrack& track, const rtc::SdpMedia& m, const rtc::SdpCodec& codec) {
  PublishedTrack* bound = &track;
  bound->mid = m.mid();
  bound->info.set_mid(m.mid());
  bound->rids.clear();
  for (const auto& rid : m.simulcast_send()) {
    if (!rid.empty() && rid[0] != '~') bound->rids.push_back(rid);
  }
  int layers = std::max<int>(1, static_cast<int>(bound->rids.size()));
  if (!bound->up) {
    Participant* self = this;
    bound->up = std::make_unique<sfu::UpTrack>(m.kind == "video", layers, [self](uint32_t ssrc) {
      std::array<uint8_t, 16> pli{};
      size_t n = rtc::rtcp::build_pli(pli, kRtcpSenderSsrc, ssrc);
      self->transport_->send_rtcp({pli.data(), n});
    });
    bound->up->set_nack_request([self](uint32_t ssrc, std::span<const uint16_t> sequences) {
      std::array<uint8_t, 12 + 4 * 64> nack{};  // header + one PID/BLP pair per sequence at worst
      if (size_t n = rtc::rtcp::build_nack(nack, kRtcpSenderSsrc, ssrc, sequences.first(std::min<size_t>(sequences.size(), 64)))) {
        self->transport_->send_rtcp({nack.data(), n});
      }
    });
    if (bound->server_muted) bound->up->set_server_muted(true, Clock::now());
  }
  auto kind = rtc::codec_from_name(codec.name);
  bound->codec = codec;
  bound->up->set_codec(kind);
  if (bound->red_payload_type >= 0) bound->up->set_red_payload_type(static_cast<uint8_t>(bound->red_payload_type));
  std::string mime(rtc::codec_mime_type(kind));
  bound->info.set_mime_type(mime);
  if (bound->info.codecs_size() > 0) bound->info.mutable_codecs(0)->set_mime_type(mime);
  for (uint32_t ssrc : m.ssrcs()) {
    if (!by_ssrc_.count(ssrc)) by_ssrc_[ssrc] = {bound, 0};
  }
  for (auto [primary, rtx] : m.fid_groups()) {
    by_ssrc_.erase(rtx);
    if (bound->rtx_payload_type >= 0 && bound->rids.empty()) rtx_by_ssrc_[rtx] = {bound, 0};
  }
}

Subscription* Participant::assign_slot(const rtc::SdpMedia& m, rtc::WebRtcTransport& transport) {
  for (auto& s : subscriptions_) {
    if (s->mid == m.mid()) return s.get();
  }
  for (auto& s : subscriptions_) {
    bool video = s->track && s->track->info.type() == livekit::VIDEO;
    if (!s->mid.empty() || !s->track || video != (m.kind == "video")) continue;
    auto codec = sfu::match_codec(m, s->track->codec);
    if (!codec) continue;
    // RED to every subscriber that takes it (unless the track disabled RED): as the publisher sent
    // it, or made up by its DownTrack from plain Opus.
    s->red = !video && !s->track->info.disable_red() ? sfu::find_red(m, codec->payload_type) : std::nullopt;
    attach(*s, m.mid(), *codec, video ? sfu::find_rtx(m, codec->payload_type) : std::nullopt, transport);
    return s.get();
  }
  return nullptr;
}

// The subscription starts flowing on section `mid`: its own SSRC, the section's payload type.
void Participant::attach(Subscription& s, const std::string& mid, const rtc::SdpCodec& codec,
                         const std::optional<rtc::SdpCodec>& rtx, rtc::WebRtcTransport& transport) {
  bool video = s.track->info.type() == livekit::VIDEO;
  s.mid = mid;
  s.codec = codec;
  s.ssrc = random_ssrc();
  s.down = std::make_unique<sfu::DownTrack>(transport, s.ssrc, static_cast<uint8_t>(codec.payload_type), video);
  s.rtx = rtx;
  if (rtx) s.down->set_rtx(random_ssrc(), static_cast<uint8_t>(rtx->payload_type));
  if (s.red) s.down->set_red(static_cast<uint8_t>(s.red->payload_type));
  // Spec §4.8: before any track settings, HIGH (LOW with adaptive stream, which then asks).
  s.down->set_max_layer(adaptive_stream_ ? 0 : 2);
  s.down->set_hidden(hidden());
  if (congestion_->enabled()) s.down->set_transport_cc(&congestion_->bwe(), static_cast<uint8_t>(transport_cc_ext()));
  subscription_by_ssrc_[s.ssrc] = &s;
  s.track->up->add(s.down.get());
}

void Participant::add_send_attributes(rtc::SdpMedia& a, const Subscription& sub) const {
  std::string msid = sub.publisher->sid() + "|" + sub.track_sid;
  a.set_direction(rtc::SdpDirection::kSendOnly);
  a.add("msid", msid + " " + sub.track_sid);
  uint32_t rtx = sub.down ? sub.down->rtx_ssrc() : 0;
  if (rtx) a.add("ssrc-group", "FID " + std::to_string(sub.ssrc) + " " + std::to_string(rtx));
  for (uint32_t ssrc : {sub.ssrc, rtx}) {
    if (!ssrc) continue;
    a.add("ssrc", std::to_string(ssrc) + " cname:" + sub.publisher->sid());
    a.add("ssrc", std::to_string(ssrc) + " msid:" + msid + " " + sub.track_sid);
  }
}

void Participant::request_negotiation() {
  if (!single_pc_) {
    if (started_) send_subscriber_offer();
    return;
  }
  // Before the JoinResponse nothing else may be sent; the first offer picks subscriptions up.
  if (!started_ || negotiation_requested_ || !connection_->open()) return;
  uint32_t audio = 0, video = 0;
  for (const auto& s : subscriptions_) {
    if (!s->mid.empty() || !s->track || s->codec_unsupported) continue;
    (s->track->info.type() == livekit::VIDEO ? video : audio)++;
  }
  for (const auto& slot : free_slots_) {
    uint32_t& n = slot.kind == "video" ? video : audio;
    if (n) --n;
  }
  negotiation_requested_ = true;
  livekit::SignalResponse r;
  r.mutable_media_sections_requirement()->set_num_audios(audio);
  r.mutable_media_sections_requirement()->set_num_videos(video);
  send(r);
}

// ---- v0: the subscriber peer connection --------------------------------------------------------

void Participant::send_subscriber_offer() {
  if (!sub_transport_ || !connection_->open()) return;
  if (awaiting_answer_) {
    offer_again_ = true;
    return;
  }
  const auto& worker = room_.worker();
  auto offer = sfu::begin_answer(worker, ++sub_version_);
  std::string bundle = "BUNDLE";

  // Sections keep their mids; a section whose subscription went away goes inactive and may be
  // reused by a new subscription of the same kind.
  for (auto& section : sub_sections_) {
    bool alive = std::any_of(subscriptions_.begin(), subscriptions_.end(), [&](auto& s) { return s->mid == section.mid; });
    if (!alive) section.used = false;
  }
  for (auto& s : subscriptions_) {
    if (!s->mid.empty() || !s->track) continue;
    bool video = s->track->info.type() == livekit::VIDEO;
    std::string kind = video ? "video" : "audio";
    auto free = std::find_if(sub_sections_.begin(), sub_sections_.end(), [&](auto& x) { return !x.used && x.kind == kind; });
    if (free == sub_sections_.end()) {
      sub_sections_.push_back({std::to_string(sub_sections_.size() + 1), kind, false});
      free = sub_sections_.end() - 1;
    }
    free->used = true;
    auto codec = sfu::subscriber_codec(s->track->codec);
    s->red = !video && !s->track->info.disable_red() ? std::optional(sfu::subscriber_red()) : std::nullopt;
    attach(*s, free->mid, codec, video ? std::optional(sfu::subscriber_rtx(codec)) : std::nullopt, *sub_transport_);
  }

  auto actpass = [](rtc::SdpMedia& m) {
    m.remove("setup");
    m.add("setup", "actpass");
  };
  rtc::SdpMedia data_offer;  // the data section comes first, as mid "0"
  data_offer.kind = "application";
  data_offer.proto = "UDP/DTLS/SCTP";
  data_offer.add("mid", "0");
  auto data = sfu::accepted_section(data_offer, worker, *sub_transport_, true);
  actpass(data);
  data.formats = {"webrtc-datachannel"};
  data.add("sctp-port", "5000");
  data.add("max-message-size", std::to_string(room_.config().limit.max_data_packet_bytes));
  offer.media.push_back(std::move(data));
  bundle += " 0";
  std::map<std::string, std::string> mid_to_track;
  for (const auto& section : sub_sections_) {
    rtc::SdpMedia m;
    m.kind = section.kind;
    m.proto = "UDP/TLS/RTP/SAVPF";
    m.add("mid", section.mid);
    auto a = sfu::accepted_section(m, worker, *sub_transport_, false);
    actpass(a);
    Subscription* sub = nullptr;
    for (auto& s : subscriptions_) {
      if (s->mid == section.mid) sub = s.get();
    }
    // Transport-wide congestion control on what we send (the subscriber's feedback drives its
    // downlink estimate); the one header extension forwarded packets carry.
    sfu::add_codec(a, sub ? sub->codec : default_codec(section.kind == "video"), true);
    a.add("extmap", std::to_string(kSubscriberTwccExt) + " " + std::string(kExtTransportCc));
    if (sub && sub->rtx) sfu::add_rtx(a, *sub->rtx, sub->codec.payload_type);
    if (sub && sub->red) sfu::add_red(a, *sub->red, sub->codec.payload_type);
    if (sub) {
      add_send_attributes(a, *sub);
      mid_to_track[section.mid] = sub->track_sid;
    } else {
      a.set_direction(rtc::SdpDirection::kInactive);
    }
    bundle += " " + section.mid;
    offer.media.push_back(std::move(a));
  }
  livekit::SignalResponse r;
  fill_description(*r.mutable_offer(), "offer", offer, bundle, ++offer_id_, mid_to_track);
  awaiting_answer_ = true;
  send(r);
}

void Participant::handle_answer(const livekit::SessionDescription& sd) {
  if (!sub_transport_) throw BadInput("no subscriber offer is outstanding on /rtc/v1");
  rtc::SessionDescription answer;
  try {
    answer = rtc::SessionDescription::parse(sd.sdp());
  } catch (const BadInput& e) {
    throw BadInput(std::string("invalid SDP answer: ") + e.what());
  }
  int twcc = 0;
  for (const auto& m : answer.media) {
    for (const auto& e : m.extensions()) {
      if (e.uri == kExtTransportCc && m.port != 0) twcc = e.id;
    }
    if (!sub_remote_set_ && !m.ice_ufrag.empty()) {
      sub_transport_->set_remote({m.ice_ufrag, m.ice_pwd}, m.fingerprint);
      sub_remote_set_ = true;
    } else if (!m.ice_ufrag.empty() && m.ice_ufrag != sub_transport_->remote_ice().ufrag) {
      // The answer to our ICE restart (resume on the two-connection path): its new credentials.
      sub_transport_->set_remote_ice({m.ice_ufrag, m.ice_pwd});
    }
    if (m.kind == "application" && m.port != 0 && !sub_transport_->sctp_enabled()) {
      rtc::SdpMedia ignored;
      if (auto sctp = sfu::add_sctp_attributes(m, ignored, room_.config().limit.max_data_packet_bytes)) {
        sub_transport_->enable_sctp(sctp->remote_port, sctp->max_message_size);
        // Spec §3.2: the server creates the subscriber PC's channels.
        sub_channels_.reliable = sub_transport_->open_data_channel("_reliable", {});
        rtc::SctpAssociation::ChannelOptions lossy;
        lossy.ordered = false;
        lossy.max_retransmits = 0;
        sub_channels_.lossy = sub_transport_->open_data_channel("_lossy", lossy);
      }
    }
  }
  sub_twcc_ext_ = twcc;
  apply_transport_cc();
  awaiting_answer_ = false;
  if (offer_again_) {
    offer_again_ = false;
    send_subscriber_offer();
  }
}

}  // namespace parlor::signal
