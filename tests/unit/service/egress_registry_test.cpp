#include "service/egress_registry.hpp"

#include <gtest/gtest.h>

#include "service/twirp.hpp"

namespace parlor::service {
namespace {

struct Events {
  std::vector<std::pair<std::string, livekit::EgressStatus>> seen;
  EgressRegistry::Listener listener() {
    return [this](const char* event, const livekit::EgressInfo& info) { seen.emplace_back(event, info.status()); };
  }
};

livekit::EgressInfo in_room(const std::string& room) {
  livekit::EgressInfo info;
  info.set_room_name(room);
  info.mutable_track()->set_room_name(room);
  return info;
}

struct FakeClock {
  int64_t now = 1'000;
  EgressRegistry::NowNs fn() {
    return [this] { return now += 1'000; };
  }
};

TEST(EgressRegistry, StartingActiveEndingComplete) {
  Events ev;
  FakeClock clock;
  EgressRegistry reg(4, 10, ev.listener(), clock.fn());
  auto info = reg.create(in_room("r"));
  EXPECT_EQ(info.egress_id().rfind("EG_", 0), 0u);
  EXPECT_EQ(info.egress_id().size(), 15u);  // EG_ + 12
  EXPECT_EQ(info.status(), livekit::EGRESS_STARTING);
  EXPECT_GT(info.updated_at(), 0);
  EXPECT_EQ(info.started_at(), 0);

  auto active = reg.activate(info.egress_id());
  ASSERT_TRUE(active);
  EXPECT_EQ(active->status(), livekit::EGRESS_ACTIVE);
  EXPECT_GT(active->started_at(), 0);
  EXPECT_FALSE(reg.activate(info.egress_id()));  // once

  ASSERT_TRUE(reg.ending(info.egress_id()));
  EXPECT_FALSE(reg.ending(info.egress_id()));
  EXPECT_FALSE(reg.activate(info.egress_id()));  // no way back to ACTIVE

  livekit::FileInfo f;
  f.set_filename("r.webm");
  f.set_size(42);
  auto done = reg.complete(info.egress_id(), {f});
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status(), livekit::EGRESS_COMPLETE);
  EXPECT_GT(done->ended_at(), done->started_at());
  ASSERT_EQ(done->file_results_size(), 1);
  EXPECT_EQ(done->file_results(0).size(), 42);
  EXPECT_FALSE(reg.fail(info.egress_id(), "late"));  // an ended egress stays as it ended

  std::vector<std::pair<std::string, livekit::EgressStatus>> want{
      {"egress_started", livekit::EGRESS_STARTING},
      {"egress_updated", livekit::EGRESS_ACTIVE},
      {"egress_updated", livekit::EGRESS_ENDING},
      {"egress_ended", livekit::EGRESS_COMPLETE}};
  EXPECT_EQ(ev.seen, want);
}

TEST(EgressRegistry, FailedKeepsTheErrorAndAbortedNeedsNoMedia) {
  Events ev;
  EgressRegistry reg(4, 10, ev.listener());
  auto a = reg.create(in_room("r"));
  auto failed = reg.fail(a.egress_id(), "cannot create file: Not a directory");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status(), livekit::EGRESS_FAILED);
  EXPECT_EQ(failed->error(), "cannot create file: Not a directory");

  auto b = reg.create(in_room("r"));
  EXPECT_FALSE(reg.complete(b.egress_id(), {}));  // nothing ran: COMPLETE is refused
  ASSERT_TRUE(reg.ending(b.egress_id()));
  auto aborted = reg.abort(b.egress_id(), "no media was recorded");
  ASSERT_TRUE(aborted);
  EXPECT_EQ(aborted->status(), livekit::EGRESS_ABORTED);
  EXPECT_EQ(ev.seen.back().first, "egress_ended");
}

TEST(EgressRegistry, CompleteAfterAStopBeforeTheFirstFrameWasSeen) {
  EgressRegistry reg(4, 10, nullptr);
  auto a = reg.create(in_room("r"));
  ASSERT_TRUE(reg.ending(a.egress_id()));
  livekit::FileInfo f;
  f.set_started_at(123);
  auto done = reg.complete(a.egress_id(), {f});
  ASSERT_TRUE(done);
  EXPECT_EQ(done->started_at(), 123);
}

TEST(EgressRegistry, MaxActiveIsEnforcedAndFreedByEnding) {
  EgressRegistry reg(2, 10, nullptr);
  auto a = reg.create(in_room("r"));
  reg.create(in_room("r"));
  try {
    reg.create(in_room("r"));
    FAIL() << "a third egress was accepted";
  } catch (const TwirpError& e) {
    EXPECT_EQ(e.code(), "resource_exhausted");
    EXPECT_NE(std::string(e.what()).find("egress.max_active"), std::string::npos);
  }
  EXPECT_EQ(reg.active_count(), 2u);
  reg.fail(a.egress_id(), "x");
  EXPECT_EQ(reg.active_count(), 1u);
  EXPECT_NO_THROW(reg.create(in_room("r")));
}

TEST(EgressRegistry, FinishedAreKeptUpToTheBound) {
  EgressRegistry reg(10, 2, nullptr);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto info = reg.create(in_room("r"));
    ids.push_back(info.egress_id());
    reg.fail(info.egress_id(), "x");
  }
  EXPECT_FALSE(reg.get(ids[0]));  // the oldest is forgotten
  EXPECT_TRUE(reg.get(ids[1]));
  EXPECT_TRUE(reg.get(ids[2]));
  EXPECT_EQ(reg.list("", "", false).size(), 2u);
}

TEST(EgressRegistry, ListFilters) {
  EgressRegistry reg(10, 10, nullptr);
  auto a = reg.create(in_room("a"));
  auto b = reg.create(in_room("b"));
  reg.fail(b.egress_id(), "x");
  EXPECT_EQ(reg.list("a", "", false).size(), 1u);
  EXPECT_EQ(reg.list("", b.egress_id(), false).size(), 1u);
  EXPECT_EQ(reg.list("", "", true).size(), 1u);
  EXPECT_EQ(reg.list("", "", true).front().egress_id(), a.egress_id());
  EXPECT_TRUE(reg.list("nope", "", false).empty());
}

TEST(EgressRegistry, UpdateLayoutOnlyForLiveRoomComposites) {
  EgressRegistry reg(10, 10, nullptr);
  livekit::EgressInfo rc;
  rc.set_room_name("r");
  rc.mutable_room_composite()->set_room_name("r");
  auto a = reg.create(rc);
  EXPECT_EQ(reg.update_layout(a.egress_id(), "speaker").room_composite().layout(), "speaker");
  EXPECT_EQ(reg.get(a.egress_id())->room_composite().layout(), "speaker");
  auto t = reg.create(in_room("r"));
  EXPECT_THROW(reg.update_layout(t.egress_id(), "grid"), TwirpError);
  try {
    reg.update_layout("EG_unknown", "grid");
    FAIL();
  } catch (const TwirpError& e) {
    EXPECT_EQ(e.code(), "not_found");
    EXPECT_STREQ(e.what(), "egress does not exist");
  }
}

}  // namespace
}  // namespace parlor::service
