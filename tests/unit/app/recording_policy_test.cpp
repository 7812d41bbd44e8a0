// The recording policy (who is recorded, when retention deletes) and privileged visits'
// end-to-end encryption keys.
#include <gtest/gtest.h>

#include "app/api/visit_rooms.hpp"
#include "app/domain/e2ee.hpp"
#include "app/domain/visit_rules.hpp"
#include "common/encoding.hpp"
#include "common/errors.hpp"

namespace parlor::app {
namespace {

TEST(RecordingPolicy, RecordedWhenPolicyOnNotPrivilegedAndTheProviderRecords) {
  VisitRules r;
  EXPECT_TRUE(r.record_visits);  // the default: every ordinary visit is recorded
  EXPECT_EQ(r.recording_retention_days, 90);
  EXPECT_TRUE(visit_recorded(r, /*privileged=*/false, /*provider_records=*/true));
  EXPECT_FALSE(visit_recorded(r, true, true));    // attorney, clergy: never
  EXPECT_FALSE(visit_recorded(r, false, false));  // Twilio: cannot
  r.record_visits = false;
  EXPECT_FALSE(visit_recorded(r, false, true));
}

TEST(RecordingPolicy, RetentionDeletesOnlyEndedRecordingsPastTheirDays) {
  const int64_t ended = 1700000000;
  EXPECT_FALSE(retention_due(90, ended, ended + 90 * 86400 - 1));
  EXPECT_TRUE(retention_due(90, ended, ended + 90 * 86400));
  EXPECT_TRUE(retention_due(1, ended, ended + 2 * 86400));
  EXPECT_FALSE(retention_due(0, ended, ended + 100000 * 86400LL));  // 0 = keep forever
  EXPECT_FALSE(retention_due(90, 0, ended + 1000 * 86400LL));       // still recording
}

TEST(RecordingPolicy, RetentionIsBounded) {
  VisitRules r;
  r.recording_retention_days = 0;
  EXPECT_NO_THROW(validate_rules(r));
  r.recording_retention_days = kMaxRetentionDays;
  EXPECT_NO_THROW(validate_rules(r));
  r.recording_retention_days = kMaxRetentionDays + 1;
  EXPECT_THROW(validate_rules(r), BadInput);
  r.recording_retention_days = -1;
  EXPECT_THROW(validate_rules(r), BadInput);
}

TEST(RecordingPolicy, PrivilegedRoomMetadataForbidsRecordingAndKeepsWhatWasThere) {
  auto m = nlohmann::json::parse(privileged_room_metadata(R"({"topic":"x","recording":"ok"})", 7));
  EXPECT_EQ(m["recording"], "forbidden");
  EXPECT_EQ(m["topic"], "x");
  EXPECT_EQ(m["visitId"], 7);
  EXPECT_TRUE(recording_forbidden(m.dump()));
  m = nlohmann::json::parse(privileged_room_metadata("plain text", 7));
  EXPECT_EQ(m["previous"], "plain text");
  EXPECT_TRUE(recording_forbidden(privileged_room_metadata("", 7)));
  EXPECT_FALSE(recording_forbidden(""));
  EXPECT_FALSE(recording_forbidden(R"({"recording":"allowed"})"));
  EXPECT_FALSE(recording_forbidden("[1,2]"));
}

TEST(E2ee, KeyIsHmacSha256OfVisitAndRoom) {
  const std::string secret = "test-secret-0123456789abcdef0123456789";
  // Computed independently: base64url(HMAC-SHA256(secret, "parlor-e2ee:42:visit-42")).
  EXPECT_EQ(derive_e2ee_key(secret, 42, "visit-42"), "RLR541aEIHPE1JohCzEz47NW86_JoHR5vbvCXL6-mUo");
  auto raw = common::base64_decode(derive_e2ee_key(secret, 42, "visit-42"));
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->size(), kE2eeKeyBytes);
  // The same for everyone on the visit, different for every other visit or secret.
  EXPECT_EQ(derive_e2ee_key(secret, 42, "visit-42"), derive_e2ee_key(secret, 42, "visit-42"));
  EXPECT_NE(derive_e2ee_key(secret, 43, "visit-43"), derive_e2ee_key(secret, 42, "visit-42"));
  EXPECT_NE(derive_e2ee_key(secret, 42, "visit-4"), derive_e2ee_key(secret, 42, "visit-42"));
  EXPECT_NE(derive_e2ee_key(secret + "x", 42, "visit-42"), derive_e2ee_key(secret, 42, "visit-42"));
  EXPECT_THROW(derive_e2ee_key("", 42, "visit-42"), BadInput);
}

TEST(E2ee, GeneratedSecretsAreLongAndRandom) {
  auto a = generate_e2ee_secret(), b = generate_e2ee_secret();
  EXPECT_NE(a, b);
  EXPECT_GE(a.size(), kMinE2eeSecretLength);
}

}  // namespace
}  // namespace parlor::app
