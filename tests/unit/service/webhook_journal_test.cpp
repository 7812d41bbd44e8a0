#include "service/webhook_journal.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/errors.hpp"

namespace parlor::service {
namespace {

namespace fs = std::filesystem;

class WebhookJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("parlor-journal-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    path_ = (dir_ / "sub" / "webhooks.queue").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string contents() const {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void append_raw(const std::string& bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::app);
    out << bytes;
  }
  fs::path dir_;
  std::string path_;
};

std::vector<std::string> ids(const std::vector<WebhookJournal::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.id);
  return out;
}

TEST_F(WebhookJournalTest, PendingEventsSurviveAReopenInOrder) {
  {
    WebhookJournal j;
    EXPECT_TRUE(j.open(path_).empty());  // creates the directory and the file
    ASSERT_TRUE(j.append({"EV_1", R"({"event":"room_started"})"}));
    ASSERT_TRUE(j.append({"EV_2", "two\nlines"}));  // bodies are length-prefixed
    ASSERT_TRUE(j.append({"EV_3", ""}));
    ASSERT_TRUE(j.done("EV_1"));
    // No close: a killed process leaves the file as it is.
  }
  WebhookJournal again;
  auto pending = again.open(path_);
  ASSERT_EQ(ids(pending), (std::vector<std::string>{"EV_2", "EV_3"}));
  EXPECT_EQ(pending[0].body, "two\nlines");
  EXPECT_EQ(pending[1].body, "");
  EXPECT_EQ(again.dropped_on_open(), 0u);
  // Opening rewrote the file with only what is pending.
  EXPECT_EQ(contents(), "E EV_2 9\ntwo\nlines\nE EV_3 0\n\n");
}

TEST_F(WebhookJournalTest, ARecordCutShortByACrashIsDroppedAndTheRestKept) {
  {
    WebhookJournal j;
    j.open(path_);
    j.append({"EV_a", "alpha"});
    j.append({"EV_b", "bravo"});
  }
  append_raw("E EV_c 100\nonly part of the bo");
  {
    WebhookJournal again;
    auto pending = again.open(path_);
    EXPECT_EQ(ids(pending), (std::vector<std::string>{"EV_a", "EV_b"}));
    EXPECT_GT(again.dropped_on_open(), 0u);
    // The file is whole again: appends after the cut are read back.
    again.append({"EV_d", "delta"});
  }
  WebhookJournal third;
  EXPECT_EQ(ids(third.open(path_)), (std::vector<std::string>{"EV_a", "EV_b", "EV_d"}));
}

TEST_F(WebhookJournalTest, GarbageNeverThrowsAndKeepsWhatParsedBeforeIt) {
  const std::vector<std::string> bad = {
      "garbage",
      "E EV_x notanumber\nbody\n",
      "E EV_x 5\nabcdeX",                        // no newline after the body
      "E bad/id 1\nx\n",                         // ids are [A-Za-z0-9_-]
      "E EV_x 99999999999999999999999\n",        // length overflow
      "E EV_x 2000000\n",                        // over the body bound
      "D \n",
      std::string("E EV_x 1\n\0\n", 11),
      "X EV_x\n",
      std::string(300, 'E') + "\n",
  };
  for (const auto& tail : bad) {
    uint64_t dropped = 0;
    auto pending = WebhookJournal::replay("E EV_ok 2\nok\n" + tail, &dropped);
    ASSERT_LE(pending.size(), 2u) << tail;
    EXPECT_EQ(pending.at(0).id, "EV_ok") << tail;
  }
  uint64_t dropped = 0;
  EXPECT_TRUE(WebhookJournal::replay("\n\n\n", &dropped).empty());
  EXPECT_EQ(dropped, 3u);
}

TEST_F(WebhookJournalTest, ADoneForAnUnknownIdAndADuplicateEventChangeNothing) {
  auto pending = WebhookJournal::replay("D EV_zz\nE EV_1 1\na\nE EV_1 1\nb\nD EV_2\n");
  ASSERT_EQ(ids(pending), (std::vector<std::string>{"EV_1"}));
  EXPECT_EQ(pending[0].body, "a");
}

TEST_F(WebhookJournalTest, CompactionKeepsOnlyThePendingEvents) {
  auto owner = std::make_unique<WebhookJournal>();
  auto& j = *owner;
  j.open(path_);
  std::vector<WebhookJournal::Event> pending;
  for (int i = 0; i < 1100; ++i) {
    std::string id = "EV_" + std::to_string(i);
    j.append({id, "body " + std::to_string(i)});
    j.done(id);
  }
  j.append({"EV_last", "still pending"});
  pending.push_back({"EV_last", "still pending"});
  ASSERT_TRUE(j.needs_compaction());
  j.compact(pending);
  EXPECT_FALSE(j.needs_compaction());
  EXPECT_EQ(contents(), "E EV_last 13\nstill pending\n");
  j.append({"EV_next", "n"});
  owner.reset();
  WebhookJournal again;
  EXPECT_EQ(ids(again.open(path_)), (std::vector<std::string>{"EV_last", "EV_next"}));
}

TEST_F(WebhookJournalTest, OneOwnerAtATime) {
  auto first = std::make_unique<WebhookJournal>();
  first->open(path_);
  WebhookJournal second;
  EXPECT_THROW(second.open(path_), BadInput);
  first.reset();  // the owner stops
  EXPECT_NO_THROW(second.open(path_));
}

TEST_F(WebhookJournalTest, AnUnwritablePathIsABadInputNamingIt) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  WebhookJournal j;
  try {
    j.open((dir_ / "file" / "queue").string());
    FAIL() << "expected BadInput";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("webhook.queue_file"), std::string::npos);
  }
  EXPECT_FALSE(j.is_open());
  EXPECT_FALSE(j.append({"EV_1", "x"}));
}

}  // namespace
}  // namespace parlor::service
