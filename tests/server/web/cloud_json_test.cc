// The "cloud" and "agent" objects for every status.

#include "server/web/cloud_json.h"

#include "gtest/gtest.h"
#include "server/common/version.h"

namespace cloudlink::web {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

node::NodeState State(const std::string& status) {
  node::NodeState s;
  s.status = status;
  s.since = kNow - absl::Seconds(42);
  s.url = "https://cloud.example";
  s.machine_guid = "11111111-2222-3333-4444-555555555555";
  if (status != node::kStatusAvailable) {
    s.claimed = true;
    s.claimed_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  }
  return s;
}

TEST(CloudJsonTest, Available) {
  node::NodeState s = State(node::kStatusAvailable);
  s.reason = "NOT_CLAIMED: nothing to claim with";
  s.reason_name = "NOT_CLAIMED";
  nlohmann::json j = CloudJson(s, kNow);
  EXPECT_EQ(j["status"], "available");
  EXPECT_EQ(j["id"], 0);
  EXPECT_EQ(j["since"], 1700000000 - 42);
  EXPECT_EQ(j["age"], 42);
  EXPECT_FALSE(j.contains("claim_id"));
  EXPECT_EQ(j["reason"], s.reason);
  EXPECT_EQ(j["reason_name"], "NOT_CLAIMED");
  EXPECT_FALSE(j.contains("next_check"));
  EXPECT_TRUE(CanBeClaimed(s));
}

TEST(CloudJsonTest, OfflineWithAnAttemptDue) {
  node::NodeState s = State(node::kStatusOffline);
  s.reason = "CONNECT_FAILED: refused";
  s.reason_name = "CONNECT_FAILED";
  s.next_attempt = kNow + absl::Seconds(7);
  s.last_connect = kNow - absl::Minutes(5);
  s.reconnect_count = 2;
  nlohmann::json j = CloudJson(s, kNow);
  EXPECT_EQ(j["status"], "offline");
  EXPECT_EQ(j["claim_id"], "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  EXPECT_EQ(j["url"], "https://cloud.example");
  EXPECT_EQ(j["reason"], "CONNECT_FAILED: refused");
  EXPECT_EQ(j["next_check"], 1700000007);
  EXPECT_EQ(j["next_in"], 7);
  EXPECT_EQ(j["id"], 3);
  EXPECT_TRUE(CanBeClaimed(s));

  s.next_attempt = kNow - absl::Seconds(1);  // past: nothing scheduled
  EXPECT_FALSE(CloudJson(s, kNow).contains("next_check"));
}

TEST(CloudJsonTest, OnlineHasAnEmptyReason) {
  node::NodeState s = State(node::kStatusOnline);
  s.reason = "stale";
  s.last_connect = kNow;
  nlohmann::json j = CloudJson(s, kNow);
  EXPECT_EQ(j["status"], "online");
  EXPECT_EQ(j["reason"], "");
  EXPECT_EQ(j["id"], 1);
  EXPECT_FALSE(CanBeClaimed(s));
}

TEST(CloudJsonTest, Banned) {
  node::NodeState s = State(node::kStatusBanned);
  s.reason = "BANNED: the cloud asked not to retry";
  nlohmann::json j = CloudJson(s, kNow);
  EXPECT_EQ(j["status"], "banned");
  EXPECT_EQ(j["claim_id"], "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  EXPECT_EQ(j["reason"], s.reason);
  EXPECT_FALSE(CanBeClaimed(s));
}

TEST(AgentJsonTest, IdentityVersionAndCounters) {
  node::NodeState s = State(node::kStatusOnline);
  s.publish.published = 5;
  s.publish.acked = 4;
  nlohmann::json j = AgentJson(s);
  EXPECT_EQ(j["machine_guid"], "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(j["version"], kVersion);
  EXPECT_EQ(j["publish"]["published"], 5);
  EXPECT_EQ(j["publish"]["acked"], 4);
}

}  // namespace
}  // namespace cloudlink::web
