#include "server/node/node_controller.h"

#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/types/optional.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "server/common/uuid.h"
#include "server/state/file_system.h"
#include "server/state/state_dir.h"
#include "tests/server/claim/scripted_http_client.h"
#include "tests/server/link/fake_wss_connector.h"
#include "tests/testing/test_clock.h"
#include "tests/testing/test_env.h"

namespace cloudlink::node {
namespace {

using ::cloudlink::testing::FakeClock;
using ::cloudlink::testing::FileExists;
using ::cloudlink::testing::FileMode;
using ::cloudlink::testing::ReadFileOrEmpty;
using ::cloudlink::testing::ScriptedHttpClient;
using ::cloudlink::testing::SteppingClock;
using ::cloudlink::testing::TempDir;
using ::cloudlink::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kUrl[] = "https://cloud.example";
constexpr char kToken[] = "claim-token-Zmlyc3Qtc2VjcmV0LTEyMzQ1Njc4";
constexpr char kOtherToken[] = "claim-token-c2Vjb25kLXNlY3JldC04NzY1NDMy";
constexpr absl::Duration kWait = absl::Seconds(10);

class NodeControllerTest : public ::testing::Test {
 protected:
  NodeControllerTest() {
    mkdir(ConfigDir().c_str(), 0755);
    options_.config_dir = ConfigDir();
    options_.lib_dir = LibDir();
    options_.hostname = "node-1";
    options_.claimer.pause = [](absl::Duration) {};  // no real pauses
    options_.claim_retry = {2, absl::Milliseconds(100),
                            absl::Milliseconds(100)};
    // A claimed node starts its cloud link, which asks for /api/v1/env;
    // there is no cloud here, so those requests fail apart from the script.
    http_.AnswerAlways("/api/v1/env", Error(absl::StatusCode::kUnavailable,
                                            reason::kConnectFailed,
                                            "no cloud in the node unit tests"));
  }

  std::string ConfigDir() const { return tmp_.Join("etc"); }
  std::string LibDir() const { return tmp_.Join("lib"); }
  std::string ClaimConfPath() const { return ConfigDir() + "/claim.conf"; }
  state::StateDir Dir() { return state::StateDir(LibDir(), &fs_); }

  NodeController& Node() {
    if (!node_) {
      node_ = std::make_unique<NodeController>(options_, &fs_, &http_, &wss_);
    }
    return *node_;
  }
  NodeController& StartedNode() {
    Node().Start();
    return *node_;
  }

  // Waits (bounded) until `pred` holds for the state; returns the last state.
  NodeState WaitForState(const std::function<bool(const NodeState&)>& pred,
                         absl::Duration timeout = kWait) {
    const MonotonicTime deadline = RealClock()->MonotonicNow() + timeout;
    auto [state, version] = node_->GetState();
    while (!pred(state)) {
      const absl::Duration left = deadline - RealClock()->MonotonicNow();
      if (left <= absl::ZeroDuration()) break;
      std::tie(state, version) = node_->WaitForStateChange(version, left);
    }
    return state;
  }

  ClaimArgs Args(const std::string& token = kToken) {
    ClaimArgs args;
    args.token = token;
    args.url = kUrl;
    args.rooms = {"room-a", "room-b"};
    return args;
  }

  // Every file under cloud.d with its content.
  std::map<std::string, std::string> CloudDirFiles() {
    std::map<std::string, std::string> files;
    state::StateDir dir = Dir();
    for (const std::string& path :
         {dir.CloudConfPath(), dir.ClaimedIdPath(), dir.PrivateKeyPath(),
          dir.PublicKeyPath()}) {
      if (FileExists(path)) files[path] = ReadFileOrEmpty(path);
    }
    return files;
  }

  nlohmann::json BodyOf(int call) {
    return nlohmann::json::parse(http_.calls().at(call).request.body);
  }

  TempDir tmp_;
  state::PosixFileSystem fs_;
  ScriptedHttpClient http_;
  // The link never gets past env/login here (the HTTP script does not
  // serve them): connections are refused.
  testing::FakeClock wss_clock_;
  testing::FakeWssConnector wss_{&wss_clock_};
  // Clocks a test may put in options_ (they outlive node_).
  FakeClock fake_clock_;
  SteppingClock stepping_clock_{-absl::Hours(1)};  // back 1 h per reading
  NodeOptions options_;
  std::unique_ptr<NodeController> node_;
};

TEST_F(NodeControllerTest, StartsUnclaimedWithANewGuid) {
  NodeState state = StartedNode().GetState().first;
  EXPECT_FALSE(state.claimed);
  EXPECT_EQ(state.status, kStatusAvailable);
  EXPECT_TRUE(IsUuid(state.machine_guid));
  EXPECT_EQ(ReadFileOrEmpty(Dir().MachineGuidPath()), state.machine_guid);
  EXPECT_THAT(state.reason, StartsWith("NOT_CLAIMED"));
  EXPECT_EQ(state.reason_name, "NOT_CLAIMED");
  EXPECT_EQ(state.hostname, "node-1");
  EXPECT_EQ(http_.call_count(), 0);
}

TEST_F(NodeControllerTest, ClaimRejectsBadInputNamingTheFieldAndStoresNothing) {
  struct Case {
    std::function<void(ClaimArgs&)> change;
    std::string reason;
  };
  const Case cases[] = {
      {[](ClaimArgs& a) { a.token = ""; }, "TOKEN_INVALID_FORMAT"},
      {[](ClaimArgs& a) { a.token = "has space"; }, "TOKEN_INVALID_FORMAT"},
      {[](ClaimArgs& a) { a.url = "http://cloud.example"; }, "URL_INVALID"},
      {[](ClaimArgs& a) { a.rooms = {"bad room"}; }, "ROOMS_INVALID"},
      {[](ClaimArgs& a) {
         a.rooms = {"ok", ""};
       },
       "ROOMS_INVALID"},
      {[](ClaimArgs& a) { a.proxy = "https://proxy.example:3128"; },
       "PROXY_UNSUPPORTED"},
      {[](ClaimArgs& a) { a.proxy = "ftp://proxy.example"; }, "PROXY_INVALID"},
  };
  NodeController& node = StartedNode();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.reason);
    ClaimArgs args = Args();
    c.change(args);
    absl::StatusOr<ClaimOutcome> outcome = node.Claim(args);
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(outcome.status()), c.reason) << outcome.status();
    EXPECT_THAT(std::string(outcome.status().message()),
                Not(HasSubstr(kToken)));
  }
  EXPECT_EQ(http_.call_count(), 0);
  EXPECT_FALSE(FileExists(Dir().CloudDir()));
  EXPECT_FALSE(node.GetState().first.claimed);
}

TEST_F(NodeControllerTest, ClaimStoresTheClaimAndSendsNodeIdentity) {
  http_.Respond(204);
  NodeController& node = StartedNode();
  absl::StatusOr<ClaimOutcome> outcome = node.Claim(Args());
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_FALSE(outcome->already_claimed);
  EXPECT_TRUE(IsUuid(outcome->claimed_id));

  NodeState state = node.GetState().first;
  EXPECT_TRUE(state.claimed);
  EXPECT_EQ(state.claimed_id, outcome->claimed_id);
  EXPECT_EQ(state.status, kStatusOffline);
  EXPECT_EQ(state.url, kUrl);
  EXPECT_EQ(state.rooms, (std::vector<std::string>{"room-a", "room-b"}));
  EXPECT_EQ(state.proxy_source, "cloud.conf");

  ASSERT_EQ(http_.call_count(), 1);
  nlohmann::json body = BodyOf(0);
  EXPECT_EQ(body["token"], kToken);
  EXPECT_EQ(body["mGUID"], state.machine_guid);
  EXPECT_EQ(body["node"]["hostname"], "node-1");
  EXPECT_EQ(body["node"]["id"], outcome->claimed_id);
  EXPECT_EQ(body["publicKey"], ReadFileOrEmpty(Dir().PublicKeyPath()));

  absl::StatusOr<absl::optional<state::StoredClaim>> stored = Dir().ReadClaim();
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->claimed_id, outcome->claimed_id);
  EXPECT_EQ((*stored)->cloud_conf.token, kToken);
  EXPECT_EQ((*stored)->cloud_conf.machine_guid, state.machine_guid);
  EXPECT_EQ((*stored)->cloud_conf.hostname, "node-1");
}

TEST_F(NodeControllerTest, SameTokenAndUrlIsAlreadyClaimedWithoutARequest) {
  http_.Respond(204);
  NodeController& node = StartedNode();
  absl::StatusOr<ClaimOutcome> first = node.Claim(Args());
  ASSERT_TRUE(first.ok()) << first.status();

  ClaimArgs again = Args();
  again.url = std::string(kUrl) + "/";  // the same url, written differently
  again.rooms = {"room-c"};             // rooms do not make another claim
  absl::StatusOr<ClaimOutcome> second = node.Claim(again);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->already_claimed);
  EXPECT_EQ(second->claimed_id, first->claimed_id);
  EXPECT_EQ(http_.call_count(), 1);
}

TEST_F(NodeControllerTest, OtherTokenOrUrlIsClaimedElsewhere) {
  http_.Respond(204);
  NodeController& node = StartedNode();
  ASSERT_TRUE(node.Claim(Args()).ok());
  const auto files = CloudDirFiles();

  ClaimArgs other_url = Args();
  other_url.url = "https://other.example";
  for (const ClaimArgs& args : {Args(kOtherToken), other_url}) {
    absl::StatusOr<ClaimOutcome> outcome = node.Claim(args);
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(ReasonOf(outcome.status()), "CLAIMED_ELSEWHERE");
    EXPECT_THAT(std::string(outcome.status().message()), HasSubstr("Reclaim"));
    EXPECT_THAT(std::string(outcome.status().message()),
                Not(HasSubstr(kToken)));
    EXPECT_THAT(std::string(outcome.status().message()),
                Not(HasSubstr(kOtherToken)));
  }
  EXPECT_EQ(http_.call_count(), 1);
  EXPECT_EQ(CloudDirFiles(), files);
}

TEST_F(NodeControllerTest, ClaimFailureShowsInTheReasonAndStoresNoClaim) {
  http_.Respond(403);
  NodeController& node = StartedNode();
  absl::StatusOr<ClaimOutcome> outcome = node.Claim(Args());
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ReasonOf(outcome.status()), "TOKEN_INVALID");
  NodeState state = node.GetState().first;
  EXPECT_FALSE(state.claimed);
  EXPECT_THAT(state.reason, StartsWith("TOKEN_INVALID"));
  EXPECT_FALSE(FileExists(Dir().CloudConfPath()));
  EXPECT_FALSE(FileExists(Dir().ClaimedIdPath()));
}

TEST_F(NodeControllerTest, ReclaimWithBadInputLeavesCloudDirIntact) {
  http_.Respond(204);
  NodeController& node = StartedNode();
  ASSERT_TRUE(node.Claim(Args()).ok());
  const auto files = CloudDirFiles();
  ASSERT_EQ(files.size(), 4u);
  const std::string guid = node.GetState().first.machine_guid;

  ClaimArgs bad_url = Args();
  bad_url.url = "http://cloud.example";
  ClaimArgs bad_proxy = Args();
  bad_proxy.proxy = "https://proxy.example";
  for (bool new_identity : {false, true}) {
    for (const ClaimArgs& args : {bad_url, bad_proxy}) {
      absl::StatusOr<ReclaimOutcome> outcome = node.Reclaim(new_identity, args);
      ASSERT_FALSE(outcome.ok());
      EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
    }
    // No token and no claim.conf or environment to take one from.
    absl::StatusOr<ReclaimOutcome> outcome =
        node.Reclaim(new_identity, ClaimArgs{});
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(ReasonOf(outcome.status()), "NO_CLAIM_INPUTS");
  }
  EXPECT_EQ(CloudDirFiles(), files);
  EXPECT_EQ(ReadFileOrEmpty(Dir().MachineGuidPath()), guid);
  EXPECT_EQ(http_.call_count(), 1);
  EXPECT_TRUE(node.GetState().first.claimed);
}

TEST_F(NodeControllerTest, ReclaimKeepsOrReplacesTheGuid) {
  http_.RespondTimes(3, 204);
  NodeController& node = StartedNode();
  absl::StatusOr<ClaimOutcome> first = node.Claim(Args());
  ASSERT_TRUE(first.ok());
  const std::string guid = node.GetState().first.machine_guid;
  const std::string first_key = ReadFileOrEmpty(Dir().PublicKeyPath());

  absl::StatusOr<ReclaimOutcome> same = node.Reclaim(false, Args(kOtherToken));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->machine_guid, guid);
  EXPECT_NE(same->claimed_id, first->claimed_id);
  EXPECT_EQ(BodyOf(1)["token"], kOtherToken);
  EXPECT_EQ(BodyOf(1)["mGUID"], guid);
  // cloud.d was removed, keys included: a new pair was made.
  EXPECT_NE(ReadFileOrEmpty(Dir().PublicKeyPath()), first_key);

  absl::StatusOr<ReclaimOutcome> fresh = node.Reclaim(true, Args());
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_NE(fresh->machine_guid, guid);
  EXPECT_TRUE(IsUuid(fresh->machine_guid));
  EXPECT_EQ(BodyOf(2)["mGUID"], fresh->machine_guid);
  EXPECT_EQ(ReadFileOrEmpty(Dir().MachineGuidPath()), fresh->machine_guid);
  NodeState state = node.GetState().first;
  EXPECT_EQ(state.machine_guid, fresh->machine_guid);
  EXPECT_EQ(state.claimed_id, fresh->claimed_id);
  EXPECT_TRUE(state.claimed);
}

TEST_F(NodeControllerTest, ReclaimWithoutTokenUsesClaimConf) {
  http_.Respond(204);
  NodeController& node = StartedNode();
  ASSERT_TRUE(node.Claim(Args()).ok());
  // claim.conf written after the claim: the worker does not claim again.
  ASSERT_TRUE(WriteFile(ClaimConfPath(),
                        absl::StrCat("[global]\n  url = ", kUrl,
                                     "\n  token = ", kOtherToken, "\n"))
                  .ok());
  http_.Respond(204);
  absl::StatusOr<ReclaimOutcome> outcome = node.Reclaim(false, ClaimArgs{});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(BodyOf(1)["token"], kOtherToken);
}

TEST_F(NodeControllerTest, ClaimsAutomaticallyFromClaimConfAtStart) {
  ASSERT_TRUE(
      WriteFile(ClaimConfPath(),
                absl::StrCat("[global]\n  url = ", kUrl,
                             "/\n  token = ", kToken, "\n  rooms = r1, r2\n"))
          .ok());
  http_.Respond(204);
  StartedNode();
  NodeState state = WaitForState([](const NodeState& s) { return s.claimed; });
  ASSERT_TRUE(state.claimed) << state.reason;
  EXPECT_EQ(state.claim_source, "claim.conf");
  EXPECT_EQ(state.rooms, (std::vector<std::string>{"r1", "r2"}));
  ASSERT_EQ(http_.call_count(), 1);
  EXPECT_EQ(http_.calls()[0].request.url,
            absl::StrCat(kUrl, "/api/v1/spaces/nodes/", state.claimed_id));
  EXPECT_EQ(BodyOf(0)["token"], kToken);
}

TEST_F(NodeControllerTest, ClaimsAutomaticallyFromTheEnvironment) {
  options_.env = {{"NETDATA_CLAIM_TOKEN", kToken},
                  {"NETDATA_CLAIM_URL", kUrl},
                  {"NETDATA_CLAIM_ROOMS", "e1"}};
  http_.Respond(204);
  StartedNode();
  NodeState state = WaitForState([](const NodeState& s) { return s.claimed; });
  ASSERT_TRUE(state.claimed) << state.reason;
  EXPECT_EQ(state.claim_source, "env");
  EXPECT_EQ(BodyOf(0)["rooms"], nlohmann::json::array({"e1"}));
}

TEST_F(NodeControllerTest, NonRetryableFailureIsNotRetriedUntilReload) {
  ASSERT_TRUE(
      WriteFile(ClaimConfPath(), absl::StrCat("[global]\n  url = ", kUrl,
                                              "\n  token = ", kToken, "\n"))
          .ok());
  http_.Respond(403);
  NodeController& node = StartedNode();
  NodeState state = WaitForState([](const NodeState& s) {
    return absl::StartsWith(s.reason, "TOKEN_INVALID");
  });
  ASSERT_THAT(state.reason, StartsWith("TOKEN_INVALID"));
  EXPECT_FALSE(state.claimed);
  EXPECT_EQ(state.next_attempt, absl::InfinitePast());  // nothing scheduled
  EXPECT_THAT(state.reason, Not(HasSubstr(kToken)));

  // The retry backoff is 100 ms: a retry, if any were scheduled, would come
  // well within this bounded wait.
  const uint64_t version = node.GetState().second;
  auto [after, after_version] =
      node.WaitForStateChange(version, absl::Milliseconds(500));
  EXPECT_EQ(after_version, version);
  EXPECT_EQ(http_.call_count(), 1);

  // Reload clears the failure and claims again. (It waits for the node to
  // get online, which it cannot here, so give it a short wait.)
  http_.Respond(204);
  node.ReloadClaimingState(absl::Milliseconds(200));
  NodeState reloaded =
      WaitForState([](const NodeState& s) { return s.claimed; });
  EXPECT_TRUE(reloaded.claimed) << reloaded.reason;
  EXPECT_EQ(http_.call_count(), 2);
}

TEST_F(NodeControllerTest, ReloadWaitsForThePendingClaimsOutcome) {
  ASSERT_TRUE(
      WriteFile(ClaimConfPath(), absl::StrCat("[global]\n  url = ", kUrl,
                                              "\n  token = ", kToken, "\n"))
          .ok());
  http_.RespondTimes(2, 403);
  NodeController& node = StartedNode();
  WaitForState(
      [](const NodeState& s) { return s.reason_name == "TOKEN_INVALID"; });
  // The reload clears the failure: the state says CLAIM_PENDING until the
  // new attempt fails again, and the reload waits for that, not longer.
  const absl::Time start = absl::Now();
  NodeState state = node.ReloadClaimingState(absl::Seconds(10));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(state.reason_name, "TOKEN_INVALID");
  EXPECT_THAT(state.reason, StartsWith("TOKEN_INVALID: "));
  EXPECT_EQ(http_.call_count(), 2);
}

TEST_F(NodeControllerTest, ReloadWithNothingToClaimReturnsAtOnce) {
  NodeController& node = StartedNode();
  // Nothing to wait for: no claim, no claim.conf, no environment.
  const absl::Time start = absl::Now();
  NodeState state = node.ReloadClaimingState(absl::Seconds(10));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_FALSE(state.claimed);
  EXPECT_THAT(state.reason, StartsWith("NOT_CLAIMED"));

  // The same with a claim.conf that is malformed.
  ASSERT_TRUE(WriteFile(ClaimConfPath(), "[global]\n  tokn = x\n").ok());
  const absl::Time again = absl::Now();
  state = node.ReloadClaimingState(absl::Seconds(10));
  EXPECT_LT(absl::Now() - again, absl::Seconds(5));
  EXPECT_THAT(state.config_error, HasSubstr(ClaimConfPath() + ":2"));
  EXPECT_EQ(state.reason_name, "CONFIG_INVALID");
  EXPECT_EQ(http_.call_count(), 0);
}

TEST_F(NodeControllerTest, RetryableFailureIsRetriedWithBackoff) {
  ASSERT_TRUE(
      WriteFile(ClaimConfPath(), absl::StrCat("[global]\n  url = ", kUrl,
                                              "\n  token = ", kToken, "\n"))
          .ok());
  http_.RespondTimes(5, 503);  // one round of the claimer
  http_.Respond(204);
  StartedNode();
  NodeState state = WaitForState([](const NodeState& s) { return s.claimed; });
  ASSERT_TRUE(state.claimed) << state.reason;
  EXPECT_EQ(http_.call_count(), 6);
  EXPECT_EQ(state.claim_source, "claim.conf");
}

TEST_F(NodeControllerTest, RetryIsScheduledAndShownInTheState) {
  options_.claim_retry = {2, absl::Seconds(30), absl::Seconds(30)};
  ASSERT_TRUE(
      WriteFile(ClaimConfPath(), absl::StrCat("[global]\n  url = ", kUrl,
                                              "\n  token = ", kToken, "\n"))
          .ok());
  http_.RespondTimes(5, 503);
  const absl::Time before = absl::Now();
  StartedNode();
  NodeState state = WaitForState([](const NodeState& s) {
    return s.next_attempt != absl::InfinitePast();
  });
  EXPECT_THAT(state.reason, StartsWith("CLOUD_ERROR_503"));
  EXPECT_EQ(state.last_backoff, absl::Seconds(30));
  EXPECT_GE(state.next_attempt, before + absl::Seconds(30));
  EXPECT_EQ(http_.call_count(), 5);
}

// The state shows the scheduled attempt in the wall time of the node's
// clock (frozen here, so exactly).
TEST_F(NodeControllerTest, ScheduledRetryIsShownInTheClocksWallTime) {
  FakeClock& clock = fake_clock_;
  options_.clock = &clock;
  options_.claim_retry = {2, absl::Seconds(30), absl::Seconds(30)};
  ASSERT_TRUE(
      WriteFile(ClaimConfPath(), absl::StrCat("[global]\n  url = ", kUrl,
                                              "\n  token = ", kToken, "\n"))
          .ok());
  http_.RespondTimes(5, 503);
  StartedNode();
  NodeState state = WaitForState([](const NodeState& s) {
    return s.next_attempt != absl::InfinitePast();
  });
  EXPECT_EQ(state.next_attempt, clock.WallNow() + absl::Seconds(30));
  EXPECT_EQ(state.last_backoff, absl::Seconds(30));
  EXPECT_EQ(state.since, clock.WallNow());
}

// The retry schedule is kept on the monotonic clock: with a wall clock that
// goes back an hour at every reading, the automatic claim is still retried
// after its backoff, not an hour (or many) later.
TEST_F(NodeControllerTest,
       AutomaticClaimRetryIsOnTimeWhenTheWallClockStepsBack) {
  SteppingClock& clock = stepping_clock_;
  options_.clock = &clock;
  options_.claim_retry = {2, absl::Milliseconds(300), absl::Milliseconds(300)};
  ASSERT_TRUE(
      WriteFile(ClaimConfPath(), absl::StrCat("[global]\n  url = ", kUrl,
                                              "\n  token = ", kToken, "\n"))
          .ok());
  http_.RespondTimes(5, 503);  // the first round fails (retryable)
  http_.Respond(204);          // the retry claims
  const MonotonicTime start = RealClock()->MonotonicNow();
  StartedNode();
  NodeState state = WaitForState([](const NodeState& s) { return s.claimed; });
  const absl::Duration took = RealClock()->MonotonicNow() - start;
  ASSERT_TRUE(state.claimed) << state.reason;
  EXPECT_EQ(http_.call_count(), 6);
  EXPECT_GE(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_GT(clock.wall_readings(), 0);  // the node did read the wall clock
}

TEST_F(NodeControllerTest, MalformedClaimConfIsShownWithFileAndLine) {
  ASSERT_TRUE(
      WriteFile(ClaimConfPath(), absl::StrCat("[global]\n  token = ", kToken,
                                              "\n  tokn = typo\n"))
          .ok());
  NodeState state = StartedNode().GetState().first;
  EXPECT_THAT(state.config_error,
              HasSubstr(absl::StrCat(ClaimConfPath(), ":3")));
  EXPECT_THAT(state.reason, HasSubstr(ClaimConfPath()));
  EXPECT_THAT(state.config_error, Not(HasSubstr(kToken)));
  EXPECT_EQ(http_.call_count(), 0);
}

TEST_F(NodeControllerTest, WaitForStateChangeWakesOnChange) {
  http_.Respond(204);
  NodeController& node = StartedNode();
  auto [state, version] = node.GetState();
  ASSERT_FALSE(state.claimed);

  // Without a change it returns at the deadline with the same version.
  auto [same, same_version] =
      node.WaitForStateChange(version, absl::Milliseconds(50));
  EXPECT_EQ(same_version, version);

  std::thread claimer([&node, this] { (void)node.Claim(Args()); });
  const absl::Time start = absl::Now();
  auto [next, next_version] = node.WaitForStateChange(version, kWait);
  claimer.join();
  EXPECT_NE(next_version, version);
  EXPECT_LT(absl::Now() - start, kWait);
  // A version older than the current one returns at once.
  auto [now, now_version] = node.WaitForStateChange(version, kWait);
  EXPECT_GE(now_version, next_version);
  EXPECT_TRUE(
      WaitForState([](const NodeState& s) { return s.claimed; }).claimed);
}

class RegenerateTokenTest : public NodeControllerTest {
 protected:
  static constexpr char kApiToken[] = "api-token-YWRtaW4tc2VjcmV0LTQ0NDQ";
  static constexpr char kNewToken[] = "new-claim-token-bmV3LXRva2VuLTU1NTU";

  RegenerateArgs RegenArgs(bool update) {
    RegenerateArgs args;
    args.space_id = "space-1";
    args.api_token = kApiToken;
    args.update_claim_conf = update;
    return args;
  }

  // A node claimed with url https://cloud.example and a claim.conf with
  // comments and another url (the claim's url wins).
  void SetUpClaimedNode() {
    config::CloudConf conf;
    conf.url = kUrl;
    conf.proxy = "none";
    conf.token = kToken;
    conf.claimed_id = "53aa76c2-8af5-448f-849a-b16872cc4ba1";
    ASSERT_TRUE(Dir().WriteClaim(conf).ok());
    ASSERT_TRUE(WriteFile(ClaimConfPath(), claim_conf_).ok());
    ASSERT_EQ(chmod(ClaimConfPath().c_str(), 0600), 0);
    StartedNode();
  }

  const std::string claim_conf_ =
      absl::StrCat("# claim settings of this node\r\n", "[global]\r\n",
                   "    ; the Space's token\r\n", "    token = ", kToken,
                   "\r\n", "    url = https://other.example\r\n", "# end\r\n");
};

TEST_F(RegenerateTokenTest, UpdatesClaimConfKeepingComments) {
  SetUpClaimedNode();
  http_.Respond(200, absl::StrCat(R"({"token":")", kNewToken, R"("})"));
  absl::StatusOr<RegenerateOutcome> outcome =
      Node().RegenerateToken(RegenArgs(true));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->token, kNewToken);
  EXPECT_TRUE(outcome->claim_conf_updated);
  EXPECT_EQ(ReadFileOrEmpty(ClaimConfPath()),
            absl::StrReplaceAll(claim_conf_, {{kToken, kNewToken}}));
  // The file keeps its mode (and owner and group): 0600 stays 0600.
  EXPECT_EQ(FileMode(ClaimConfPath()), 0600);

  ASSERT_EQ(http_.call_count(), 1);
  EXPECT_EQ(http_.calls()[0].request.url,
            "https://cloud.example/api/v1/spaces/space-1/claim-token/"
            "regenerate");
  EXPECT_EQ(testing::HeaderValue(http_.calls()[0].request, "Authorization"),
            absl::StrCat("Bearer ", kApiToken));
}

// A claim.conf that cannot be read fails the call before the cloud is
// asked: the old token keeps working and nothing changes.
TEST_F(RegenerateTokenTest, UnreadableClaimConfFailsBeforeAskingTheCloud) {
  SetUpClaimedNode();
  ASSERT_EQ(unlink(ClaimConfPath().c_str()), 0);
  ASSERT_EQ(mkdir(ClaimConfPath().c_str(), 0755), 0);  // not a file
  const int calls_before = http_.call_count();
  absl::StatusOr<RegenerateOutcome> outcome =
      Node().RegenerateToken(RegenArgs(true));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(ReasonOf(outcome.status()), "CLAIM_CONF_WRITE_FAILED");
  EXPECT_THAT(std::string(outcome.status().message()),
              ::testing::HasSubstr("token was not regenerated"));
  EXPECT_EQ(http_.call_count(), calls_before);
}

// The same for a claim.conf that does not parse.
TEST_F(RegenerateTokenTest, MalformedClaimConfFailsBeforeAskingTheCloud) {
  SetUpClaimedNode();
  ASSERT_TRUE(WriteFile(ClaimConfPath(), "[global\n  token = x\n").ok());
  const int calls_before = http_.call_count();
  absl::StatusOr<RegenerateOutcome> outcome =
      Node().RegenerateToken(RegenArgs(true));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(ReasonOf(outcome.status()), "CLAIM_CONF_WRITE_FAILED");
  EXPECT_EQ(http_.call_count(), calls_before);
  EXPECT_EQ(ReadFileOrEmpty(ClaimConfPath()), "[global\n  token = x\n");
}

TEST_F(RegenerateTokenTest, WithoutUpdateLeavesClaimConfAlone) {
  SetUpClaimedNode();
  http_.Respond(200, absl::StrCat(R"({"token":")", kNewToken, R"("})"));
  absl::StatusOr<RegenerateOutcome> outcome =
      Node().RegenerateToken(RegenArgs(false));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->token, kNewToken);
  EXPECT_FALSE(outcome->claim_conf_updated);
  EXPECT_EQ(ReadFileOrEmpty(ClaimConfPath()), claim_conf_);
}

TEST_F(RegenerateTokenTest, CreatesClaimConfWhenMissing) {
  http_.Respond(200, absl::StrCat(R"({"token":")", kNewToken, R"("})"));
  RegenerateArgs args = RegenArgs(true);
  args.url = kUrl;
  absl::StatusOr<RegenerateOutcome> outcome =
      StartedNode().RegenerateToken(args);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_THAT(ReadFileOrEmpty(ClaimConfPath()),
              HasSubstr(absl::StrCat("token = ", kNewToken)));
  EXPECT_EQ(FileMode(ClaimConfPath()), 0640);
}

TEST_F(RegenerateTokenTest, RefusalLeavesClaimConfAlone) {
  SetUpClaimedNode();
  http_.Respond(403);
  absl::StatusOr<RegenerateOutcome> outcome =
      Node().RegenerateToken(RegenArgs(true));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(outcome.status().message()),
              Not(HasSubstr(kApiToken)));
  EXPECT_EQ(ReadFileOrEmpty(ClaimConfPath()), claim_conf_);
}

TEST_F(RegenerateTokenTest, BadUrlIsRefusedBeforeSending) {
  RegenerateArgs args = RegenArgs(true);
  args.url = "http://cloud.example";
  absl::StatusOr<RegenerateOutcome> outcome =
      StartedNode().RegenerateToken(args);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(ReasonOf(outcome.status()), "URL_INVALID");
  EXPECT_EQ(http_.call_count(), 0);
}

}  // namespace
}  // namespace cloudlink::node
