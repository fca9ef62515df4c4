#include "client/aclk_state.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cloudlink::client {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kClaimId[] = "53aa76c2-8af5-448f-849a-b16872cc4ba1";

TEST(AclkStateTest, Unclaimed) {
  cloudlink::v1::State state;
  state.set_aclk_available(true);
  state.set_status("available");
  const std::string text = AclkStateText(state);
  EXPECT_THAT(text, StartsWith("ACLK Available: Yes\n"
                               "ACLK Implementation: Next Generation\n"
                               "New Cloud Protocol Support: Yes\n"
                               "Claimed: No\n"
                               "Claimed Id: null\n"
                               "Online: No\n"
                               "Used Cloud Protocol: New\n"
                               "Status: available\n"
                               "Reason: null\n"));
  EXPECT_THAT(text, HasSubstr("\nBanned By Cloud: No\n"));
  EXPECT_THAT(text, HasSubstr("\nLast Connect: null\n"));
}

TEST(AclkStateTest, ClaimedOffline) {
  cloudlink::v1::State state;
  state.set_aclk_available(true);
  state.set_claimed(true);
  state.set_claimed_id(kClaimId);
  state.set_status("banned");
  state.set_reason("NODE_BANNED: the cloud refused the node");
  state.set_proxy("http://bob:****@proxy:3128");
  state.set_proxy_source("claim.conf");
  state.set_insecure(true);
  state.mutable_next_attempt()->set_seconds(1767323045);
  const std::string text = AclkStateText(state);
  EXPECT_THAT(text,
              HasSubstr("Claimed: Yes\n"
                        "Claimed Id: 53aa76c2-8af5-448f-849a-b16872cc4ba1\n"
                        "Online: No\n"));
  EXPECT_THAT(text, HasSubstr("\nReason: NODE_BANNED: the cloud refused the "
                              "node\n"));
  EXPECT_THAT(text, HasSubstr("\nProxy: http://bob:****@proxy:3128\n"
                              "Proxy Source: claim.conf\nInsecure: Yes\n"
                              "Banned By Cloud: Yes\n"));
  EXPECT_THAT(text, HasSubstr("\nNext Attempt: 2026-01-02T03:04:05Z\n"));
}

TEST(AclkStateTest, Online) {
  cloudlink::v1::State state;
  state.set_aclk_available(true);
  state.set_claimed(true);
  state.set_claimed_id(kClaimId);
  state.set_online(true);
  state.set_status("online");
  state.set_mqtt_version(5);
  state.add_rooms("a");
  state.add_rooms("b");
  state.mutable_publish()->set_acked(12);
  state.mutable_publish_latency()->mutable_p50()->set_nanos(12000000);
  const std::string text = AclkStateText(state);
  EXPECT_THAT(text, StartsWith("ACLK Available: Yes\n"
                               "ACLK Implementation: Next Generation\n"
                               "New Cloud Protocol Support: Yes\n"
                               "Claimed: Yes\n"
                               "Claimed Id: "
                               "53aa76c2-8af5-448f-849a-b16872cc4ba1\n"
                               "Online: Yes\n"
                               "Used Cloud Protocol: New\n"
                               "Status: online\n"));
  EXPECT_THAT(text, HasSubstr("\nRooms: a,b\n"));
  EXPECT_THAT(text, HasSubstr("\nMQTT Version: 5\n"));
  EXPECT_THAT(text, HasSubstr("\nMessages Acked: 12\n"));
  EXPECT_THAT(text, HasSubstr("\nPublish Latency p50: 12ms\n"));
  EXPECT_THAT(text, ::testing::EndsWith("Publish Latency p99: null\n"));
}

TEST(AclkStateTest, ClaimIdNotShownWhenNotClaimed) {
  // A stale id without a valid claim is not presented as the claim.
  cloudlink::v1::State state;
  state.set_claimed(false);
  state.set_claimed_id(kClaimId);
  EXPECT_THAT(AclkStateText(state), HasSubstr("Claimed Id: null\n"));
}

}  // namespace
}  // namespace cloudlink::client
