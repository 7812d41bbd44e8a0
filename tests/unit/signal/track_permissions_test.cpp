// Subscription permissions (issue 11): the TrackPermissions decision, and the room applying it
// to sessions driven through the SignalSink seam: a publisher restricts, a subscriber no longer
// allowed loses the track and is told allowed:false, a new track obeys the permissions, allowing
// again subscribes who wanted it, hidden monitors are never refused, and the stored state is
// bounded.
#include "signal/track_permissions.hpp"

#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "signal/session_harness.hpp"

namespace parlor::signal {
namespace {

using testing::FakeSignalSink;
using testing::SessionHarness;
using R = livekit::SignalResponse;

livekit::TrackPermission allow(const std::string& identity, const std::string& sid, bool all_tracks,
                               std::vector<std::string> tracks = {}) {
  livekit::TrackPermission p;
  p.set_participant_identity(identity);
  p.set_participant_sid(sid);
  p.set_all_tracks(all_tracks);
  for (auto& t : tracks) p.add_track_sids(t);
  return p;
}

livekit::SubscriptionPermission only(std::vector<livekit::TrackPermission> entries) {
  livekit::SubscriptionPermission s;
  s.set_all_participants(false);
  for (auto& e : entries) *s.add_track_permissions() = e;
  return s;
}

const TrackPermissions::Bounds kBounds{10, 4};

// The room's sids: PA_bob is bob's; any other sid is unknown.
std::optional<std::string> identity_of(const std::string& sid) {
  if (sid == "PA_bob") return "bob";
  return std::nullopt;
}

TEST(TrackPermissions, EveryoneUntilRestricted) {
  TrackPermissions p;
  EXPECT_TRUE(p.allows("a", "TR_1"));
  ASSERT_TRUE(p.update(only({}), kBounds, identity_of));
  EXPECT_FALSE(p.allows("a", "TR_1"));  // an empty list allows nobody
  livekit::SubscriptionPermission all;
  all.set_all_participants(true);
  *all.add_track_permissions() = allow("x", "", false);  // ignored with all_participants
  ASSERT_TRUE(p.update(all, kBounds, identity_of));
  EXPECT_TRUE(p.allows("a", "TR_1"));
  EXPECT_EQ(p.entry_count(), 0u);
}

TEST(TrackPermissions, ByIdentityOrSidAllTracksOrAList) {
  TrackPermissions p;
  ASSERT_TRUE(
      p.update(only({allow("alice", "", true), allow("", "PA_bob", false, {"TR_1"}),
                     allow("", "PA_gone", true), allow("carol", "PA_bob", false, {"TR_2"})}),
               kBounds, identity_of));
  EXPECT_TRUE(p.allows("alice", "TR_1"));
  EXPECT_TRUE(p.allows("alice", "TR_later"));  // all_tracks covers tracks published later
  EXPECT_TRUE(p.allows("bob", "TR_1"));        // the sid was resolved to bob's identity
  EXPECT_FALSE(p.allows("bob", "TR_2"));       // the identity wins over a sid naming bob
  EXPECT_TRUE(p.allows("carol", "TR_2"));
  EXPECT_FALSE(p.allows("carol", "TR_1"));
  EXPECT_FALSE(p.allows("dave", "TR_1"));
  EXPECT_EQ(p.entry_count(), 3u);  // the unknown sid was skipped
}

TEST(TrackPermissions, BadRequestsChangeNothing) {
  TrackPermissions p;
  ASSERT_TRUE(p.update(only({allow("alice", "", true)}), kBounds, identity_of));
  std::vector<livekit::TrackPermission> many;
  for (int i = 0; i < 11; ++i) many.push_back(allow("p" + std::to_string(i), "", true));
  EXPECT_FALSE(p.update(only(many), kBounds, identity_of));
  EXPECT_FALSE(
      p.update(only({allow("bob", "", false, {"1", "2", "3", "4", "5"})}), kBounds, identity_of));
  EXPECT_THROW(p.update(only({allow("bob", "", true), allow("", "", true)}), kBounds, identity_of),
               BadInput);
  EXPECT_TRUE(p.allows("alice", "TR_1"));
  EXPECT_FALSE(p.allows("bob", "1"));
}

// ---- through the room --------------------------------------------------------------------

// A publisher's join offer: one sendonly audio section carrying the AddTrackRequest "mic".
std::string publish_sdp(const std::string& cid) {
  return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
         "a=ice-ufrag:cNi0\r\na=ice-pwd:k4n7eCxGSTUw+Y3R97Ii4WXs\r\na=setup:actpass\r\n"
         "a=fingerprint:sha-256 "
         "6C:D8:DD:BC:53:D2:E2:D9:2D:C5:81:5E:28:C0:F6:DB:6D:45:62:1D:67:1C:6B:6C:"
         "1B:B0:89:43:A9:17:C3:45\r\n"
         "a=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=msid:stream " +
         cid + "\r\na=rtpmap:111 opus/48000/2\r\n";
}

livekit::AddTrackRequest audio_track(const std::string& cid) {
  livekit::AddTrackRequest t;
  t.set_cid(cid);
  t.set_name(cid);
  t.set_type(livekit::AUDIO);
  t.set_source(livekit::MICROPHONE);
  return t;
}

struct Session {
  std::shared_ptr<FakeSignalSink> sink = std::make_shared<FakeSignalSink>();
  Participant* p = nullptr;
  std::string sid;
};

class PermissionsTest : public ::testing::Test {
 protected:
  // Joins `identity`; with `cid`, it publishes an audio track of that client id in its join offer.
  Session join(const std::string& identity, const std::string& cid = "", bool hidden = false) {
    Session s;
    h.run([&] {
      auto params = SessionHarness::params(identity);
      params.claims.video->hidden = hidden;
      if (!cid.empty()) {
        params.add_tracks.push_back(audio_track(cid));
        livekit::SessionDescription d;
        d.set_type("offer");
        d.set_sdp(publish_sdp(cid));
        d.set_id(1);
        params.publisher_offer = d;
      }
      auto failed = h.join(std::move(params), s.sink);
      ASSERT_FALSE(failed) << failed->message;
      s.p = h.room().find(identity);
      s.sid = s.p->sid();
    });
    return s;
  }
  std::string track_of(Session& s) {
    std::string sid;
    h.run([&] { sid = s.p->published_tracks().at(0)->info.sid(); });
    return sid;
  }
  bool subscribed(Session& s, const std::string& track) {
    bool yes = false;
    h.run([&] { yes = s.p->subscribed_to(track); });
    return yes;
  }
  void send(Session& s, const livekit::SubscriptionPermission& perm) {
    livekit::SignalRequest r;
    *r.mutable_subscription_permission() = perm;
    h.run([&] { s.sink->deliver(r.SerializeAsString()); });
  }
  // The permission updates a session received, in order.
  static std::vector<livekit::SubscriptionPermissionUpdate> updates(Session& s) {
    std::vector<livekit::SubscriptionPermissionUpdate> out;
    for (const auto& r : s.sink->of(R::kSubscriptionPermissionUpdate))
      out.push_back(r.subscription_permission_update());
    return out;
  }

  SessionHarness h;
};

TEST_F(PermissionsTest, RestrictingRevokesAtOnceAndAllowingAgainSubscribes) {
  auto pub = join("pub", "mic");
  auto a = join("alice");
  auto b = join("bob");
  const auto track = track_of(pub);
  ASSERT_TRUE(subscribed(a, track));
  ASSERT_TRUE(subscribed(b, track));

  send(pub, only({allow("alice", "", true)}));
  EXPECT_TRUE(subscribed(a, track));
  EXPECT_TRUE(updates(a).empty());
  EXPECT_FALSE(subscribed(b, track));
  auto ub = updates(b);
  ASSERT_EQ(ub.size(), 1u);
  EXPECT_EQ(ub[0].participant_sid(), pub.sid);
  EXPECT_EQ(ub[0].track_sid(), track);
  EXPECT_FALSE(ub[0].allowed());

  // An explicit subscription is refused with the update again.
  livekit::SignalRequest sub;
  sub.mutable_subscription()->set_subscribe(true);
  sub.mutable_subscription()->add_track_sids(track);
  h.run([&] { b.sink->deliver(sub.SerializeAsString()); });
  EXPECT_FALSE(subscribed(b, track));
  ASSERT_EQ(updates(b).size(), 2u);
  EXPECT_FALSE(updates(b)[1].allowed());
  EXPECT_TRUE(b.sink->of(R::kSubscriptionResponse).empty());  // not a "track not found"

  livekit::SubscriptionPermission all;
  all.set_all_participants(true);
  send(pub, all);
  EXPECT_TRUE(subscribed(b, track));
  ASSERT_EQ(updates(b).size(), 3u);
  EXPECT_TRUE(updates(b)[2].allowed());
  EXPECT_EQ(updates(b)[2].track_sid(), track);
  EXPECT_TRUE(updates(a).empty());
  EXPECT_TRUE(b.sink->escaped.empty());
}

TEST_F(PermissionsTest, BySidAndTrackListAndTracksPublishedLater) {
  auto pub = join("pub", "mic");
  auto a = join("alice");
  auto b = join("bob");
  const auto track = track_of(pub);
  // bob by sid, only this track; alice not named.
  send(pub, only({allow("", b.sid, false, {track})}));
  EXPECT_TRUE(subscribed(b, track));
  EXPECT_FALSE(subscribed(a, track));

  auto later = join("carol");  // joins while restricted: refused at join, told after JoinResponse
  EXPECT_FALSE(subscribed(later, track));
  auto& responses = later.sink->responses;
  ASSERT_FALSE(responses.empty());
  EXPECT_EQ(responses[0].message_case(), R::kJoin);
  auto uc = updates(later);
  ASSERT_EQ(uc.size(), 1u);
  EXPECT_FALSE(uc[0].allowed());

  // carol explicitly unsubscribes: allowing everyone later does not subscribe her.
  livekit::SignalRequest unsub;
  unsub.mutable_subscription()->set_subscribe(false);
  unsub.mutable_subscription()->add_track_sids(track);
  h.run([&] { later.sink->deliver(unsub.SerializeAsString()); });
  livekit::SubscriptionPermission all;
  all.set_all_participants(true);
  send(pub, all);
  EXPECT_TRUE(subscribed(a, track));
  EXPECT_FALSE(subscribed(later, track));
  EXPECT_EQ(updates(later).size(), 1u);
}

TEST_F(PermissionsTest, ATrackPublishedAfterThePermissionObeysIt) {
  auto a = join("alice");
  auto b = join("bob");
  Session pub;
  // The publisher restricts before publishing: join without a track, set, then publish.
  pub = join("pub");
  send(pub, only({allow("bob", "", true)}));
  livekit::SignalRequest add;
  *add.mutable_add_track() = audio_track("mic");
  livekit::SignalRequest offer;
  offer.mutable_offer()->set_type("offer");
  offer.mutable_offer()->set_sdp(publish_sdp("mic"));
  offer.mutable_offer()->set_id(2);
  h.run([&] {
    pub.sink->deliver(add.SerializeAsString());
    pub.sink->deliver(offer.SerializeAsString());
  });
  const auto track = track_of(pub);
  EXPECT_TRUE(subscribed(b, track));
  EXPECT_FALSE(subscribed(a, track));
  ASSERT_EQ(updates(a).size(), 1u);
  EXPECT_EQ(updates(a)[0].track_sid(), track);
  EXPECT_FALSE(updates(a)[0].allowed());
}

TEST_F(PermissionsTest, HiddenMonitorsAreNeverRefused) {
  auto pub = join("pub", "mic");
  auto staff = join("staff", "", /*hidden=*/true);
  const auto track = track_of(pub);
  send(pub, only({}));  // nobody
  EXPECT_TRUE(subscribed(staff, track));
  EXPECT_TRUE(updates(staff).empty());
  auto late = join("staff2", "", true);
  EXPECT_TRUE(subscribed(late, track));
}

TEST_F(PermissionsTest, RoomAdminsBypassAndAnUnhiddenMonitorIsChecked) {
  auto pub = join("pub", "mic");
  auto staff = join("staff", "", /*hidden=*/true);
  Session admin;
  h.run([&] {
    auto params = SessionHarness::params("admin");
    params.claims.video->room_admin = true;
    ASSERT_FALSE(h.join(std::move(params), admin.sink));
    admin.p = h.room().find("admin");
  });
  const auto track = track_of(pub);
  send(pub, only({}));
  EXPECT_TRUE(subscribed(admin, track));
  ASSERT_TRUE(subscribed(staff, track));
  // RoomService makes the monitor visible: from now on it is an ordinary subscriber.
  livekit::UpdateParticipantRequest update;
  update.mutable_permission()->set_can_subscribe(true);
  update.mutable_permission()->set_hidden(false);
  h.run([&] { staff.p->update_from_server(update); });
  EXPECT_FALSE(subscribed(staff, track));
  ASSERT_EQ(updates(staff).size(), 1u);
  EXPECT_FALSE(updates(staff)[0].allowed());
}

TEST_F(PermissionsTest, TooManyEntriesAreRefusedAndCounted) {
  h.config.limit.max_track_permissions = 2;
  auto pub = join("pub", "mic");
  auto a = join("alice");
  const auto track = track_of(pub);
  send(pub, only({allow("x", "", true), allow("y", "", true), allow("z", "", true)}));
  EXPECT_TRUE(subscribed(a, track));  // the previous state (everyone) stays
  EXPECT_EQ(h.counters.track_permissions.load(), 1u);
  auto rr = pub.sink->of(R::kRequestResponse);
  ASSERT_FALSE(rr.empty());
  EXPECT_EQ(rr.back().request_response().reason(), livekit::RequestResponse::LIMIT_EXCEEDED);
  // An entry naming nobody is a bad request: answered, nothing changed, the session goes on.
  send(pub, only({allow("", "", true)}));
  rr = pub.sink->of(R::kRequestResponse);
  EXPECT_EQ(rr.back().request_response().reason(), livekit::RequestResponse::INVALID_REQUEST);
  EXPECT_TRUE(subscribed(a, track));
  EXPECT_TRUE(pub.sink->escaped.empty());
}

TEST_F(PermissionsTest, LeavingPublisherForgetsDenials) {
  auto pub = join("pub", "mic");
  auto a = join("alice");
  const auto track = track_of(pub);
  send(pub, only({}));
  bool denied = false;
  h.run([&] { denied = a.p->denied(track); });
  EXPECT_TRUE(denied);
  h.run([&] { h.room().remove("pub", livekit::CLIENT_INITIATED, false); });
  h.run([&] { denied = a.p->denied(track); });
  EXPECT_FALSE(denied);
}

}  // namespace
}  // namespace parlor::signal
