#include "service/room_manager.hpp"

#include <gtest/gtest.h>

#include "service/twirp.hpp"

namespace parlor::service {
namespace {

struct Recorder : RoomEvents {
  std::vector<std::string> events;
  void on_room_started(const livekit::Room& r) override { events.push_back("started:" + r.name()); }
  void on_room_finished(const livekit::Room& r) override { events.push_back("finished:" + r.name()); }
};

livekit::CreateRoomRequest named(const std::string& name, uint32_t empty_timeout = 0) {
  livekit::CreateRoomRequest r;
  r.set_name(name);
  r.set_empty_timeout(empty_timeout);
  return r;
}

TEST(RoomManager, CreateIsIdempotentAndAnnouncesOnce) {
  config::MediaConfig c;
  Recorder rec;
  RoomManager rooms(c, rec);
  auto a = rooms.create(named("r"));
  auto b = rooms.create(named("r"));
  EXPECT_EQ(a.sid(), b.sid());
  EXPECT_EQ(a.empty_timeout(), c.room.empty_timeout);
  EXPECT_EQ(rec.events, std::vector<std::string>{"started:r"});
  EXPECT_TRUE(rooms.remove("r"));
  EXPECT_FALSE(rooms.remove("r"));
  EXPECT_EQ(rec.events.back(), "finished:r");
}

TEST(RoomManager, EmptyAndDepartureTimeouts) {
  config::MediaConfig c;
  c.room.departure_timeout = 5;
  Recorder rec;
  RoomManager rooms(c, rec);
  auto t0 = RoomManager::Clock::now();
  rooms.create(named("never-joined", 10));
  rooms.create(named("joined", 10));
  rooms.participant_count_changed("joined", 1, 0, 1);
  rooms.sweep(t0 + std::chrono::seconds(11));
  EXPECT_FALSE(rooms.find("never-joined"));
  EXPECT_TRUE(rooms.find("joined"));  // occupied rooms never time out
  // Only a hidden monitor left: the room reports nobody but stays open while it watches.
  rooms.participant_count_changed("joined", 0, 0, 1);
  EXPECT_EQ(rooms.find("joined")->num_participants(), 0u);
  rooms.sweep(RoomManager::Clock::now() + std::chrono::seconds(6));
  EXPECT_TRUE(rooms.find("joined"));
  rooms.participant_count_changed("joined", 0, 0, 0);
  rooms.sweep(RoomManager::Clock::now() + std::chrono::seconds(2));
  EXPECT_TRUE(rooms.find("joined"));
  rooms.sweep(RoomManager::Clock::now() + std::chrono::seconds(6));
  EXPECT_FALSE(rooms.find("joined"));
}

TEST(RoomManager, NamesAndLimitsAreEnforced) {
  config::MediaConfig c;
  c.limit.max_rooms = 1;
  Recorder rec;
  RoomManager rooms(c, rec);
  EXPECT_THROW(rooms.create(named("")), TwirpError);
  EXPECT_THROW(rooms.create(named(std::string(300, 'a'))), TwirpError);
  EXPECT_THROW(rooms.create(named("a|b")), TwirpError);
  rooms.create(named("one"));
  try {
    rooms.create(named("two"));
    FAIL();
  } catch (const TwirpError& e) {
    EXPECT_EQ(e.code(), "resource_exhausted");
  }
  EXPECT_THROW(rooms.update_metadata("missing", "x"), TwirpError);
  EXPECT_EQ(rooms.update_metadata("one", "m").metadata(), "m");
}

}  // namespace
}  // namespace parlor::service
