#include "server/node/claim_drift.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cloudlink::node {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

config::CloudConf Claim() {
  config::CloudConf conf;
  conf.url = "https://cloud.example";
  conf.token = "tok-1";
  conf.rooms = {"a", "b"};
  conf.proxy = "env";
  conf.source = "claim.conf";
  return conf;
}

config::ClaimInputs Same() {
  config::ClaimInputs inputs;
  inputs.url = "https://cloud.example";
  inputs.token = "tok-1";
  inputs.rooms = {"b", "a"};  // rooms compare as sets
  inputs.proxy = "env";
  inputs.source = "claim.conf";
  return inputs;
}

TEST(ClaimDriftTest, NothingDiffers) {
  config::CloudConf claim = Claim();
  claim.url = "https://cloud.example/";
  const ClaimDrift drift = CompareWithClaim(claim, Same());
  EXPECT_THAT(drift.claim_keys, IsEmpty());
  EXPECT_THAT(drift.connection_keys, IsEmpty());
}

TEST(ClaimDriftTest, NamesEveryKeyInOrder) {
  config::ClaimInputs inputs;
  inputs.url = "https://other.example";
  inputs.token = "tok-2";
  inputs.rooms = {"c"};
  inputs.proxy = "none";
  inputs.insecure = true;
  const ClaimDrift drift = CompareWithClaim(Claim(), inputs);
  EXPECT_THAT(drift.claim_keys, ElementsAre("token", "url", "rooms"));
  EXPECT_THAT(drift.connection_keys, ElementsAre("proxy", "insecure"));
}

TEST(ClaimDriftTest, AnEmptyClaimUrlIsTheDefault) {
  config::CloudConf claim = Claim();
  claim.url = "";
  config::ClaimInputs inputs = Same();
  inputs.url = config::kDefaultCloudUrl;
  EXPECT_THAT(CompareWithClaim(claim, inputs).claim_keys, IsEmpty());
}

TEST(ClaimDriftTest, OnlyRpcClaimsKeepTheirOwnConnectionSettings) {
  config::CloudConf claim = Claim();
  EXPECT_TRUE(ConnectionFollowsSources(claim));
  claim.source = "env";
  EXPECT_TRUE(ConnectionFollowsSources(claim));
  claim.source = "";  // written before the source was recorded
  EXPECT_TRUE(ConnectionFollowsSources(claim));
  claim.source = "rpc";
  EXPECT_FALSE(ConnectionFollowsSources(claim));
}

TEST(ClaimDriftTest, TextNamesKeysSourceAndFix) {
  EXPECT_EQ(ConfigDiffersText({}, "claim.conf", "id"), "");
  const std::string text =
      ConfigDiffersText({"token", "rooms"}, "env", "1234-claim");
  EXPECT_THAT(text, StartsWith("CONFIG_DIFFERS_FROM_CLAIM: "));
  EXPECT_THAT(text, HasSubstr("NETDATA_CLAIM_* environment"));
  EXPECT_THAT(text, HasSubstr("token, rooms"));
  EXPECT_THAT(text, HasSubstr("1234-claim"));
  EXPECT_THAT(text, HasSubstr("cloudlinkctl reclaim"));
  EXPECT_THAT(text, Not(HasSubstr("tok-")));
}

}  // namespace
}  // namespace cloudlink::node
