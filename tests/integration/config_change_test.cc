// Configuration changes on a claimed node, end to end (real dev cloud,
// cloudlinkd and cloudlinkctl): reload-claiming-state on an online node with
// nothing changed is a no-op the cloud does not notice; proxy and insecure
// edits in claim.conf apply on reload and at restart without a new claim and
// are stored in cloud.conf; a token or rooms that differ from the claim show
// CONFIG_DIFFERS_FROM_CLAIM in get-state and aclk-state and are logged once;
// claim_source names the source the claim was made from; a reclaim's reply
// describes the new claim.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/uuid.h"
#include "tests/integration/link_test_base.h"

namespace cloudlink::integration {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class ConfigChangeTest : public LinkTestBase {
 protected:
  // claim.conf with Space A's token and rooms and `extra` lines.
  std::string ClaimConf(const std::string& extra,
                        const std::string& token = "") {
    return absl::StrCat("[global]\n  url = ", cloud_->url(), "\n  token = ",
                        token.empty() ? cloud_->Env("CLAIM_TOKEN") : token,
                        "\n  rooms = ", cloud_->Env("ROOMS"), "\n", extra);
  }

  void RewriteClaimConf(CloudlinkdProcess* daemon, const std::string& text) {
    ASSERT_TRUE(testing::WriteFile(daemon->claim_conf_path(), text).ok());
  }

  std::string CloudConf(CloudlinkdProcess* daemon) {
    return testing::ReadFileOrEmpty(daemon->lib_dir() + "/cloud.d/cloud.conf");
  }

  // `exit_code`: 0 for online without a config error; 4
  // (STATE_NOT_REACHED) when the state carries a config error.
  json Reload(CloudlinkdProcess* daemon, int exit_code = 0) {
    const testing::RunResult result = daemon->Ctl(
        {"--json", "reload-claiming-state", "--wait-seconds", "15"});
    EXPECT_EQ(result.exit_code, exit_code) << result.out << result.err;
    json state = json::parse(result.out, nullptr, false);
    if (state.is_object() && state.contains("state")) state = state["state"];
    return state.is_object() ? state : json::object();
  }

  // A daemon claimed from claim.conf (`extra` lines added), online.
  CloudlinkdProcess* OnlineFromClaimConf(const std::string& extra) {
    CloudlinkdOptions options = TrustingOptions();
    options.claim_conf = ClaimConf(extra);
    CloudlinkdProcess* daemon = StartDaemon(std::move(options));
    if (daemon == nullptr) return nullptr;
    const json state = WaitForStatus(daemon, "online");
    EXPECT_EQ(state.value("claim_source", ""), "claim.conf") << state.dump(2);
    return daemon;
  }
};

TEST_F(ConfigChangeTest, ReloadOfAnUnchangedOnlineNodeIsANoOp) {
  CloudlinkdProcess* daemon = OnlineFromClaimConf("  proxy = none\n");
  ASSERT_NE(daemon, nullptr);
  const json before = *daemon->State();
  const std::string claimed_id = before.value("claimed_id", "");
  ASSERT_TRUE(WaitForAgentConnection(claimed_id, true, kSourceAgent));

  for (int pass = 0; pass < 3; ++pass) {
    const json after = Reload(daemon);
    EXPECT_EQ(after.value("status", ""), "online") << after.dump(2);
    EXPECT_EQ(after.value("claimed_id", ""), claimed_id);
    EXPECT_EQ(ReconnectCount(after), ReconnectCount(before)) << after.dump(2);
    EXPECT_EQ(StateTime(after["last_connect"]),
              StateTime(before["last_connect"]));
  }
  // The cloud never saw the node go away.
  for (const json& connection : AgentConnectionsOf(claimed_id)) {
    EXPECT_TRUE(connection.value("reachable", false)) << connection.dump();
  }
  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("nothing changed; the link stays up"));
}

TEST_F(ConfigChangeTest, ProxyAndInsecureEditsApplyOnReloadAndRestart) {
  CloudlinkdProcess* daemon = OnlineFromClaimConf("  proxy = none\n");
  ASSERT_NE(daemon, nullptr);
  const std::string claimed_id = daemon->State()->value("claimed_id", "");
  EXPECT_THAT(CloudConf(daemon), HasSubstr("proxy = none\n"));
  const int claims_before = Requests("/api/v1/spaces/nodes/");

  RewriteClaimConf(daemon, ClaimConf("  proxy = env\n  insecure = yes\n"));
  const json reloaded = Reload(daemon);
  EXPECT_EQ(reloaded.value("status", ""), "online") << reloaded.dump(2);
  EXPECT_EQ(reloaded.value("claimed_id", ""), claimed_id);
  EXPECT_EQ(reloaded.value("proxy", ""), "env");
  EXPECT_EQ(reloaded.value("proxy_source", ""), "claim.conf");
  EXPECT_TRUE(reloaded.value("insecure", false));
  EXPECT_EQ(reloaded.value("config_error", "?"), "");
  EXPECT_THAT(CloudConf(daemon), HasSubstr("proxy = env\n"));
  EXPECT_THAT(CloudConf(daemon), HasSubstr("insecure = yes\n"));
  EXPECT_THAT(daemon->Stderr(), HasSubstr("applying proxy and insecure"));
  // insecure = yes is warned about at every connection.
  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("insecure = yes: the cloud's TLS certificates"));

  CloudlinkdOptions options = TrustingOptions();
  options.claim_conf = ClaimConf("  proxy = none\n  insecure = no\n");
  ASSERT_TRUE(daemon->Restart(std::move(options)).ok());
  const json restarted = WaitForStatus(daemon, "online");
  EXPECT_EQ(restarted.value("claimed_id", ""), claimed_id);
  EXPECT_EQ(restarted.value("proxy", ""), "none");
  EXPECT_FALSE(restarted.value("insecure", true));
  EXPECT_THAT(CloudConf(daemon), HasSubstr("proxy = none\n"));
  EXPECT_EQ(Requests("/api/v1/spaces/nodes/"), claims_before) << "no new claim";
}

TEST_F(ConfigChangeTest, OtherTokenOrRoomsAreShownLoggedOnceAndKept) {
  CloudlinkdProcess* daemon = OnlineFromClaimConf("");
  ASSERT_NE(daemon, nullptr);
  const std::string claimed_id = daemon->State()->value("claimed_id", "");
  const std::string other_token =
      absl::StrCat("claim-token-", NewUuidV4().substr(0, 8));
  RewriteClaimConf(daemon, absl::StrCat("[global]\n  url = ", cloud_->url(),
                                        "\n  token = ", other_token,
                                        "\n  rooms = other-room\n"));
  const json state = Reload(daemon, 4);
  EXPECT_EQ(state.value("status", ""), "online") << state.dump(2);
  EXPECT_EQ(state.value("claimed_id", ""), claimed_id);
  const std::string config_error = state.value("config_error", "");
  EXPECT_THAT(config_error, StartsWith("CONFIG_DIFFERS_FROM_CLAIM: "));
  EXPECT_THAT(config_error, HasSubstr("token, rooms"));
  EXPECT_THAT(config_error, HasSubstr("cloudlinkctl reclaim"));
  EXPECT_THAT(config_error, Not(HasSubstr(other_token)));
  Reload(daemon, 4);

  const testing::RunResult aclk = daemon->Ctl({"aclk-state"});
  EXPECT_EQ(aclk.exit_code, 0) << aclk.err;
  EXPECT_THAT(aclk.out, HasSubstr("CONFIG_DIFFERS_FROM_CLAIM"));
  const std::string log = daemon->Stderr();
  size_t count = 0;
  for (size_t at = log.find("CONFIG_DIFFERS_FROM_CLAIM");
       at != std::string::npos;
       at = log.find("CONFIG_DIFFERS_FROM_CLAIM", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u) << log;
  EXPECT_THAT(log, Not(HasSubstr(other_token)));
}

TEST_F(ConfigChangeTest, ClaimSourceIsRpcAfterAnApiClaimAlsoAfterRestart) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string claimed_id = Claim(daemon, "none");
  json state = WaitForStatus(daemon, "online");
  EXPECT_EQ(state.value("claim_source", ""), "rpc");
  ASSERT_TRUE(daemon->Restart(TrustingOptions()).ok());
  state = WaitForStatus(daemon, "online");
  EXPECT_EQ(state.value("claimed_id", ""), claimed_id);
  EXPECT_EQ(state.value("claim_source", ""), "rpc");
}

TEST_F(ConfigChangeTest, ReclaimReplyDescribesTheNewClaim) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string old_id = Claim(daemon, "none");
  WaitForStatus(daemon, "online");
  const testing::RunResult result = daemon->Ctl(
      {"--json", "reclaim", "--token", cloud_->Env("CLAIM_TOKEN"), "--rooms",
       cloud_->Env("ROOMS"), "--url", cloud_->url(), "--proxy", "none"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const json answer = json::parse(result.out, nullptr, false);
  ASSERT_TRUE(answer.is_object()) << result.out;
  const std::string new_id = answer.value("claimed_id", "");
  EXPECT_NE(new_id, old_id);
  const json& state = answer["state"];
  EXPECT_EQ(state.value("claimed_id", ""), new_id);
  EXPECT_EQ(state.value("claim_source", ""), "rpc");
  // Not the old session's: the new claim has not connected yet.
  EXPECT_EQ(StateTime(state["last_connect"]), absl::InfinitePast())
      << state.dump(2);
  EXPECT_EQ(ReconnectCount(state), 0);
}

// INVALID_ROOM_ID names the room the cloud refused (it says only "a Room").
TEST_F(ConfigChangeTest, InvalidRoomIsNamed) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const testing::RunResult result =
      daemon->Ctl({"claim", "--token", cloud_->Env("CLAIM_TOKEN"), "--rooms",
                   "no-such-room", "--url", cloud_->url(), "--proxy", "none"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.err, HasSubstr("INVALID_ROOM_ID"));
  EXPECT_THAT(result.err, HasSubstr("'no-such-room'"));
  EXPECT_THAT(result.err, Not(HasSubstr("retried")));
}

}  // namespace
}  // namespace cloudlink::integration
