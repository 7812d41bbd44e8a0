// RoomService answers through Respond: registry methods at once, participant methods only once
// the directory's (worker's) posted task has run, exactly once in every case: a result, a Twirp
// error thrown on the worker, an unexpected exception there, or a task the worker dropped.
#include "service/room_service.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/auth/access_token.hpp"
#include "service/twirp.hpp"

namespace parlor::service {
namespace {

constexpr const char* kKey = "APIkey";
constexpr const char* kSecret = "a-secret-of-at-least-thirty-two-characters";

class NoEvents : public RoomEvents {
 public:
  void on_room_started(const livekit::Room&) override {}
  void on_room_finished(const livekit::Room&) override {}
};

// A directory whose posted tasks run only when the test says so (the stand-in for a worker).
class FakeDirectory : public ParticipantDirectory {
 public:
  std::deque<std::function<void()>> tasks;
  std::vector<std::string> calls;  // participant methods called, in order
  bool throw_unexpected = false;   // the next participant method throws std::runtime_error

  void post(const std::string& /*room*/, std::function<void()> task) override { tasks.push_back(std::move(task)); }
  void run_tasks() {
    while (!tasks.empty()) {
      auto task = std::move(tasks.front());
      tasks.pop_front();
      task();
    }
  }

  std::vector<livekit::ParticipantInfo> list(const std::string&) override {
    called("list");
    return {info("alice")};
  }
  livekit::ParticipantInfo get(const std::string&, const std::string& identity) override {
    called("get");
    return known(identity);
  }
  void remove(const std::string&, const std::string& identity) override {
    called("remove");
    known(identity);
  }
  livekit::TrackInfo mute(const livekit::MuteRoomTrackRequest& r) override {
    called("mute");
    known(r.identity());
    livekit::TrackInfo t;
    t.set_sid(r.track_sid());
    t.set_muted(r.muted());
    return t;
  }
  livekit::ParticipantInfo update(const livekit::UpdateParticipantRequest& r) override {
    called("update");
    auto p = known(r.identity());
    p.set_metadata(r.metadata());
    return p;
  }
  void update_subscriptions(const livekit::UpdateSubscriptionsRequest& r) override {
    called("update_subscriptions");
    known(r.identity());
  }
  void send_data(const livekit::SendDataRequest&) override { called("send_data"); }
  void close_room(const std::string&, livekit::DisconnectReason) override {}
  void room_updated(const livekit::Room&) override {}

 private:
  void called(const char* what) {
    calls.emplace_back(what);
    if (throw_unexpected) throw std::runtime_error("boom");
  }
  static livekit::ParticipantInfo info(const std::string& identity) {
    livekit::ParticipantInfo p;
    p.set_identity(identity);
    p.set_sid("PA_" + identity);
    return p;
  }
  static livekit::ParticipantInfo known(const std::string& identity) {
    if (identity != "alice")
      throw TwirpError("not_found", "participant " + identity + " is not in room");
    return info(identity);
  }
};

class RoomServiceTest : public ::testing::Test {
 protected:
  RoomServiceTest() : rooms_(config(), events_), service_(config_, rooms_) {
    rooms_.set_directory(&directory_);
    service_.set_caught_handler([this](const std::string& path, const Caught& caught) {
      caught_.push_back(path + ": " + caught.message);
    });
    livekit::CreateRoomRequest create;
    create.set_name("r");
    rooms_.create(create);
  }

  const config::MediaConfig& config() {
    config_.keys[kKey] = kSecret;
    return config_;
  }

  std::string token(const std::string& room = "r") {
    auth::ClaimGrants claims;
    claims.api_key = kKey;
    claims.identity = "backend";
    auth::VideoGrant grant;
    grant.room_admin = true;
    grant.room_create = true;
    grant.room_list = true;
    grant.room = room;
    claims.video = grant;
    return auth::mint_token(claims, kSecret);
  }

  // Starts a call; its answers are collected in `answers_`.
  void call(const std::string& method, const nlohmann::json& body, const std::string& room = "r") {
    http::Request req;
    req.method = "POST";
    req.path = "/twirp/livekit.RoomService/" + method;
    req.headers["content-type"] = "application/json";
    req.headers["authorization"] = "Bearer " + token(room);
    req.body = body.dump();
    service_.handle(req, [this](http::Response res) { answers_.push_back(std::move(res)); });
  }

  std::string code(const http::Response& res) {
    return nlohmann::json::parse(res.body).value("code", std::string());
  }

  config::MediaConfig config_;
  NoEvents events_;
  RoomManager rooms_;
  RoomService service_;
  std::vector<http::Response> answers_;
  std::vector<std::string> caught_;
  FakeDirectory directory_;  // last: tasks it still holds answer into answers_ as they go
};

TEST_F(RoomServiceTest, RegistryMethodsAnswerAtOnceWithoutTheWorker) {
  call("CreateRoom", {{"name", "r2"}});
  call("ListRooms", nlohmann::json::object());
  call("UpdateRoomMetadata", {{"room", "r"}, {"metadata", "m"}});
  call("DeleteRoom", {{"room", "r2"}});
  ASSERT_EQ(answers_.size(), 4u);
  for (const auto& a : answers_) EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_NE(answers_[1].body.find("\"r2\""), std::string::npos);
  EXPECT_TRUE(directory_.tasks.empty());
  EXPECT_TRUE(directory_.calls.empty());
}

struct ParticipantCall {
  const char* method;
  nlohmann::json body;
  const char* directory_call;
  const char* in_answer;  // a piece of the answer's body
};

TEST_F(RoomServiceTest, ParticipantMethodsAnswerOnlyAfterTheWorkerRan) {
  const std::vector<ParticipantCall> calls = {
      {"ListParticipants", {{"room", "r"}}, "list", "PA_alice"},
      {"GetParticipant", {{"room", "r"}, {"identity", "alice"}}, "get", "PA_alice"},
      {"MutePublishedTrack",
       {{"room", "r"}, {"identity", "alice"}, {"trackSid", "TR_1"}, {"muted", true}},
       "mute",
       "TR_1"},
      {"UpdateParticipant",
       {{"room", "r"}, {"identity", "alice"}, {"metadata", "md"}},
       "update",
       "md"},
      {"UpdateSubscriptions",
       {{"room", "r"}, {"identity", "alice"}, {"trackSids", {"TR_1"}}, {"subscribe", true}},
       "update_subscriptions",
       "{"},
      {"SendData", {{"room", "r"}, {"data", "aGk="}}, "send_data", "{"},
      {"RemoveParticipant", {{"room", "r"}, {"identity", "alice"}}, "remove", "{"},
  };
  for (const auto& c : calls) {
    SCOPED_TRACE(c.method);
    answers_.clear();
    directory_.calls.clear();
    call(c.method, c.body);
    EXPECT_TRUE(answers_.empty()) << "answered before the worker ran";
    ASSERT_EQ(directory_.tasks.size(), 1u);
    EXPECT_TRUE(directory_.calls.empty());
    directory_.run_tasks();
    ASSERT_EQ(answers_.size(), 1u);
    EXPECT_EQ(answers_[0].status, 200) << answers_[0].body;
    EXPECT_NE(answers_[0].body.find(c.in_answer), std::string::npos) << answers_[0].body;
    EXPECT_EQ(directory_.calls, std::vector<std::string>{c.directory_call});
  }
  EXPECT_TRUE(caught_.empty());
}

TEST_F(RoomServiceTest, AWorkerSideTwirpErrorIsTheAnswer) {
  call("GetParticipant", {{"room", "r"}, {"identity", "nobody"}});
  EXPECT_TRUE(answers_.empty());
  directory_.run_tasks();
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_[0].status, 404);
  EXPECT_EQ(code(answers_[0]), "not_found");
  EXPECT_TRUE(caught_.empty());  // an expected error is not counted as a caught exception
}

TEST_F(RoomServiceTest, AThrowingTaskIsAnsweredInternalOnceAndCounted) {
  directory_.throw_unexpected = true;
  call("MutePublishedTrack",
       {{"room", "r"}, {"identity", "alice"}, {"trackSid", "TR_1"}, {"muted", true}});
  EXPECT_TRUE(answers_.empty());
  directory_.run_tasks();
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_[0].status, 500);
  EXPECT_EQ(code(answers_[0]), "internal");
  EXPECT_EQ(answers_[0].body.find("boom"), std::string::npos);  // no detail to the caller
  ASSERT_EQ(caught_.size(), 1u);
  EXPECT_EQ(caught_[0], "/twirp/livekit.RoomService/MutePublishedTrack: boom");
}

TEST_F(RoomServiceTest, ATaskTheStoppingWorkerDropsIsAnsweredUnavailable) {
  call("ListParticipants", {{"room", "r"}});
  call("RemoveParticipant", {{"room", "r"}, {"identity", "alice"}});
  EXPECT_TRUE(answers_.empty());
  directory_.tasks.clear();  // destroyed unrun, as a stopped io_context does
  ASSERT_EQ(answers_.size(), 2u);
  for (const auto& a : answers_) {
    EXPECT_EQ(a.status, 503);
    EXPECT_EQ(code(a), "unavailable");
  }
  EXPECT_TRUE(directory_.calls.empty());
}

TEST_F(RoomServiceTest, ChecksBeforeThePostAnswerAtOnce) {
  // A token for another room: LiveKit's "permissions denied", without reaching the worker.
  call("GetParticipant", {{"room", "r"}, {"identity", "alice"}}, "other");
  // An unknown room.
  call("RemoveParticipant", {{"room", "missing"}, {"identity", "alice"}}, "missing");
  // Over the metadata limit.
  call("UpdateParticipant", {{"room", "r"},
                             {"identity", "alice"},
                             {"metadata", std::string(config_.limit.max_metadata_size + 1, 'x')}});
  ASSERT_EQ(answers_.size(), 3u);
  EXPECT_EQ(answers_[0].status, 401);
  EXPECT_EQ(code(answers_[0]), "unauthenticated");
  EXPECT_EQ(answers_[1].status, 404);
  EXPECT_EQ(code(answers_[1]), "not_found");
  EXPECT_EQ(answers_[2].status, 400);
  EXPECT_EQ(code(answers_[2]), "invalid_argument");
  EXPECT_TRUE(directory_.tasks.empty());
}

TEST_F(RoomServiceTest, WithoutADirectoryListAndSendDataAnswerEmptyAtOnce) {
  rooms_.set_directory(nullptr);
  call("ListParticipants", {{"room", "r"}});
  call("SendData", {{"room", "r"}, {"data", "aGk="}});
  call("GetParticipant", {{"room", "r"}, {"identity", "alice"}});
  ASSERT_EQ(answers_.size(), 3u);
  EXPECT_EQ(answers_[0].status, 200);
  EXPECT_EQ(answers_[1].status, 200);
  EXPECT_EQ(answers_[2].status, 404);
}

TEST(RespondOnce, FirstAnswerWinsAndADroppedOneGetsTheFallback) {
  std::vector<int> got;
  {
    http::RespondOnce once([&](http::Response r) { got.push_back(r.status); },
                           [] { return http::Response::text(503, "dropped"); });
    auto copy = once;
    EXPECT_TRUE(copy(http::Response::text(200, "a")));
    EXPECT_FALSE(once(http::Response::text(500, "b")));
  }
  EXPECT_EQ(got, std::vector<int>{200});
  got.clear();
  {
    http::RespondOnce once([&](http::Response r) { got.push_back(r.status); },
                           [] { return http::Response::text(503, "dropped"); });
    auto copy = once;
  }
  EXPECT_EQ(got, std::vector<int>{503});
}

}  // namespace
}  // namespace parlor::service
