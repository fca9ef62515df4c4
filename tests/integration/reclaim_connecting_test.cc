// A reclaim that arrives while the link is still connecting (here: in the
// env call, which the dev cloud holds for 8 s): the goodbye step has no
// session to leave and does not wait out its 5 s bound, the new claim is
// made at once, and the reply describes the new claim (no connection yet),
// not the old session.

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/link_test_base.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {
namespace {

using nlohmann::json;

constexpr char kEnvPath[] = "/api/v1/env";

class ReclaimConnectingTest : public LinkTestBase {};

TEST_F(ReclaimConnectingTest, ReclaimWhileConnectingClaimsAtOnce) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string old_id = Claim(daemon, "none");
  ASSERT_FALSE(old_id.empty());
  const json online = WaitForStatus(daemon, "online");
  ASSERT_NE(StateTime(online["last_connect"]), absl::InfinitePast());

  // Restart into a slow env: the link stays in its env call.
  ASSERT_TRUE(daemon->Stop().ok());
  ASSERT_TRUE(cloud_
                  ->ArmFault({{"pathPrefix", kEnvPath},
                              {"status", 503},
                              {"count", 20},
                              {"delayMs", 8000}})
                  .ok());
  const int env_before = Requests(kEnvPath);
  ASSERT_TRUE(daemon->Restart(TrustingOptions()).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return Requests(kEnvPath) > env_before; },
                               absl::Seconds(10)));

  const absl::Time start = absl::Now();
  const testing::RunResult result = daemon->Ctl(
      {"--json", "reclaim", "--token", cloud_->Env("CLAIM_TOKEN_B"), "--rooms",
       cloud_->Env("ROOMS_B"), "--url", cloud_->url(), "--proxy", "none"});
  const absl::Duration took = absl::Now() - start;
  ASSERT_EQ(result.exit_code, 0) << result.err << Diagnostics(daemon);
  // Before: the goodbye step waited its whole 5 s for the env call.
  EXPECT_LT(took, absl::Seconds(4)) << Diagnostics(daemon);
  const json answer = json::parse(result.out, nullptr, false);
  ASSERT_TRUE(answer.is_object()) << result.out;
  const std::string new_id = answer.value("claimed_id", "");
  ASSERT_FALSE(new_id.empty()) << result.out;
  EXPECT_NE(new_id, old_id);
  // The reply's state is the new claim's: claimed, not yet connected.
  const json& state = answer["state"];
  EXPECT_EQ(state.value("claimed_id", ""), new_id) << result.out;
  EXPECT_EQ(StateTime(state["last_connect"]), absl::InfinitePast())
      << result.out;
  EXPECT_NE(state.value("status", ""), "online") << result.out;

  // Once the cloud answers again, the new claim connects.
  ASSERT_TRUE(cloud_->ClearFaults().ok());
  const json after = WaitForStatus(daemon, "online", absl::Seconds(30));
  EXPECT_EQ(after.value("claimed_id", ""), new_id);
}

}  // namespace
}  // namespace cloudlink::integration
