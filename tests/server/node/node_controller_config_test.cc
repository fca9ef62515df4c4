// Configuration changes on a claimed node: connection settings (proxy,
// insecure) in claim.conf or the environment apply on reload and at start
// without a new claim and are stored in cloud.conf; a token, url or rooms
// that differ from the claim are reported as CONFIG_DIFFERS_FROM_CLAIM;
// claim_source names the source the claim was made from.

#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "server/node/node_controller.h"
#include "server/state/file_system.h"
#include "server/state/state_dir.h"
#include "tests/server/claim/scripted_http_client.h"
#include "tests/server/link/fake_wss_connector.h"
#include "tests/testing/test_clock.h"
#include "tests/testing/test_env.h"

namespace cloudlink::node {
namespace {

using ::cloudlink::testing::ScriptedHttpClient;
using ::cloudlink::testing::TempDir;
using ::cloudlink::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kUrl[] = "https://cloud.example";
constexpr char kToken[] = "claim-token-Zmlyc3Qtc2VjcmV0LTEyMzQ1Njc4";
constexpr char kOtherToken[] = "claim-token-c2Vjb25kLXNlY3JldC04NzY1NDMy";

class NodeControllerConfigTest : public ::testing::Test {
 protected:
  NodeControllerConfigTest() {
    options_.config_dir = tmp_.Join("etc");
    options_.lib_dir = tmp_.Join("lib");
    options_.hostname = "node-1";
    options_.claimer.pause = [](absl::Duration) {};
    http_.AnswerAlways("/api/v1/env", Error(absl::StatusCode::kUnavailable,
                                            reason::kConnectFailed,
                                            "no cloud in the node unit tests"));
  }

  void WriteClaimConf(const std::string& token, const std::string& extra,
                      const std::string& rooms = "r1") {
    ASSERT_TRUE(fs_.MakeDirs(options_.config_dir, 0755).ok());
    ASSERT_TRUE(WriteFile(options_.config_dir + "/claim.conf",
                          absl::StrCat("[global]\n  url = ", kUrl,
                                       "\n  token = ", token,
                                       "\n  rooms = ", rooms, "\n", extra))
                    .ok());
  }

  NodeController& StartNode() {
    node_ = std::make_unique<NodeController>(options_, &fs_, &http_, &wss_);
    node_->Start();
    return *node_;
  }

  // Waits (at most 10 s) until `done` holds for the node's state; returns
  // the last state.
  NodeState WaitForState(const std::function<bool(const NodeState&)>& done) {
    const MonotonicTime deadline =
        RealClock()->MonotonicNow() + absl::Seconds(10);
    auto [state, version] = node_->GetState();
    while (!done(state) && RealClock()->MonotonicNow() < deadline) {
      std::tie(state, version) = node_->WaitForStateChange(
          version, deadline - RealClock()->MonotonicNow());
    }
    return state;
  }

  // Starts the node and waits (bounded) for the automatic claim.
  NodeState StartClaimed() {
    http_.Respond(204);
    StartNode();
    return WaitForState([](const NodeState& state) { return state.claimed; });
  }

  // A Claim call's arguments for kToken at kUrl.
  static ClaimArgs Args() {
    ClaimArgs args;
    args.token = kToken;
    args.url = kUrl;
    return args;
  }

  config::CloudConf StoredConf() {
    state::StateDir dir(options_.lib_dir, &fs_);
    absl::StatusOr<absl::optional<state::StoredClaim>> claim = dir.ReadClaim();
    if (!claim.ok() || !claim->has_value()) return {};
    return (*claim)->cloud_conf;
  }

  TempDir tmp_;
  state::PosixFileSystem fs_;
  ScriptedHttpClient http_;
  testing::FakeClock wss_clock_;
  testing::FakeWssConnector wss_{&wss_clock_};
  NodeOptions options_;
  std::unique_ptr<NodeController> node_;
};

TEST_F(NodeControllerConfigTest, ProxyEditAppliesOnReloadWithoutReclaim) {
  WriteClaimConf(kToken, "  proxy = none\n");
  const NodeState claimed = StartClaimed();
  ASSERT_TRUE(claimed.claimed) << claimed.reason;
  EXPECT_EQ(claimed.claim_source, "claim.conf");
  EXPECT_EQ(claimed.proxy_source, "claim.conf");
  EXPECT_EQ(StoredConf().source, "claim.conf");
  const int claims = http_.call_count();

  WriteClaimConf(kToken,
                 "  proxy = http://user:s3cret@proxy.example:3128\n"
                 "  insecure = yes\n");
  const NodeState reloaded = node_->ReloadClaimingState(absl::ZeroDuration());
  EXPECT_EQ(reloaded.claimed_id, claimed.claimed_id);
  EXPECT_EQ(http_.call_count(), claims) << "no new claim";
  EXPECT_EQ(reloaded.proxy_source, "claim.conf");
  EXPECT_THAT(reloaded.proxy, HasSubstr("proxy.example:3128"));
  EXPECT_THAT(reloaded.proxy, Not(HasSubstr("s3cret")));
  EXPECT_TRUE(reloaded.insecure);
  EXPECT_EQ(reloaded.config_error, "");
  const config::CloudConf conf = StoredConf();
  EXPECT_EQ(conf.proxy, "http://user:s3cret@proxy.example:3128");
  EXPECT_TRUE(conf.insecure);
  EXPECT_EQ(conf.claimed_id, claimed.claimed_id);
  EXPECT_EQ(conf.token, kToken);
}

TEST_F(NodeControllerConfigTest, ProxyEditAppliesAtRestart) {
  WriteClaimConf(kToken, "");
  const NodeState claimed = StartClaimed();
  ASSERT_TRUE(claimed.claimed) << claimed.reason;
  node_.reset();
  WriteClaimConf(kToken, "  proxy = socks5h://proxy.example:1080\n");
  NodeState state = StartNode().GetState().first;
  EXPECT_EQ(state.claimed_id, claimed.claimed_id);
  EXPECT_EQ(StoredConf().proxy, "socks5h://proxy.example:1080");
  EXPECT_EQ(state.proxy_source, "claim.conf");
  EXPECT_EQ(state.config_error, "");
}

TEST_F(NodeControllerConfigTest, EnvironmentProxyAppliesToAnEnvClaim) {
  options_.env = {{"NETDATA_CLAIM_TOKEN", kToken}, {"NETDATA_CLAIM_URL", kUrl}};
  const NodeState claimed = StartClaimed();
  ASSERT_TRUE(claimed.claimed) << claimed.reason;
  EXPECT_EQ(claimed.claim_source, "env");
  node_.reset();
  options_.env["NETDATA_CLAIM_PROXY"] = "none";
  NodeState state = StartNode().GetState().first;
  EXPECT_EQ(StoredConf().proxy, "none");
  EXPECT_EQ(state.proxy_source, "env");
  EXPECT_EQ(state.claim_source, "env");
}

TEST_F(NodeControllerConfigTest, OtherTokenAndRoomsAreReportedNotApplied) {
  WriteClaimConf(kToken, "");
  const NodeState claimed = StartClaimed();
  ASSERT_TRUE(claimed.claimed) << claimed.reason;
  const int claims = http_.call_count();

  WriteClaimConf(kOtherToken, "", "r1,r2");
  const NodeState state = node_->ReloadClaimingState(absl::ZeroDuration());
  EXPECT_EQ(state.claimed_id, claimed.claimed_id);
  EXPECT_EQ(http_.call_count(), claims);
  EXPECT_THAT(state.config_error, StartsWith("CONFIG_DIFFERS_FROM_CLAIM: "));
  EXPECT_THAT(state.config_error, HasSubstr("token, rooms"));
  EXPECT_THAT(state.config_error, HasSubstr("reclaim"));
  EXPECT_THAT(state.config_error, Not(HasSubstr(kOtherToken)));
  EXPECT_THAT(state.config_error, Not(HasSubstr("url")));
  EXPECT_EQ(StoredConf().token, kToken);
}

TEST_F(NodeControllerConfigTest, RpcClaimKeepsItsProxyAndSaysSo) {
  StartNode();
  http_.Respond(204);
  ClaimArgs args = Args();
  args.rooms = {"r1"};
  args.proxy = "socks5h://proxy.example:1080";
  absl::StatusOr<ClaimOutcome> outcome = node_->Claim(args);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(node_->GetState().first.claim_source, "rpc");
  // claim.conf written after the claim, with another proxy.
  WriteClaimConf(kToken, "  proxy = none\n");
  const NodeState state = node_->ReloadClaimingState(absl::ZeroDuration());
  EXPECT_EQ(state.claim_source, "rpc");
  EXPECT_EQ(state.proxy_source, "cloud.conf");
  EXPECT_EQ(StoredConf().proxy, "socks5h://proxy.example:1080");
  EXPECT_THAT(state.config_error, StartsWith("CONFIG_DIFFERS_FROM_CLAIM: "));
  EXPECT_THAT(state.config_error, HasSubstr("proxy"));
}

// "... it will be retried" only when a retry is scheduled: an automatic
// claim's failure says when; a Claim call's failure (nothing scheduled)
// does not promise one.
TEST_F(NodeControllerConfigTest, RetryIsPromisedOnlyWhenScheduled) {
  StartNode();
  http_.RespondTimes(5, 503);
  absl::StatusOr<ClaimOutcome> outcome = node_->Claim(Args());
  ASSERT_FALSE(outcome.ok());
  EXPECT_THAT(std::string(outcome.status().message()),
              Not(HasSubstr("retried")));
  NodeState state = node_->GetState().first;
  EXPECT_EQ(state.next_attempt, absl::InfinitePast());
  EXPECT_THAT(state.reason, Not(HasSubstr("retried")));
  node_.reset();

  options_.claim_retry = {2, absl::Seconds(30), absl::Seconds(30)};
  WriteClaimConf(kToken, "");
  http_.RespondTimes(5, 503);
  StartNode();
  const NodeState s = WaitForState([](const NodeState& state) {
    return state.next_attempt != absl::InfinitePast();
  });
  EXPECT_NE(s.next_attempt, absl::InfinitePast());
  EXPECT_THAT(s.reason, StartsWith("CLOUD_ERROR_503"));
  EXPECT_THAT(s.reason, HasSubstr("it will be retried automatically in 30s"));
}

}  // namespace
}  // namespace cloudlink::node
