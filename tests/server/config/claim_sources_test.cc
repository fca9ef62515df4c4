#include "server/config/claim_sources.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "tests/testing/test_env.h"

namespace cloudlink::config {
namespace {

constexpr char kFileToken[] = "fileTOKEN0123456789abcdefghijklmnop";
constexpr char kEnvToken[] = "envTOKEN0123456789abcdefghijklmnopq";

const Environment kEnv = {{"NETDATA_CLAIM_TOKEN", kEnvToken},
                          {"NETDATA_CLAIM_ROOMS", "envroom"},
                          {"NETDATA_EXTRA_CLAIM_OPTS", "-insecure"}};

class ResolveClaimInputsTest : public ::testing::Test {
 protected:
  void WriteClaimConf(const std::string& text) {
    ASSERT_TRUE(testing::WriteFile(dir_.Join("claim.conf"), text).ok());
  }
  testing::TempDir dir_;
};

TEST_F(ResolveClaimInputsTest, NeitherSourceMeansNoInputs) {
  ClaimSourcesResult r = ResolveClaimInputs(dir_.path(), {});
  EXPECT_FALSE(r.inputs.has_value());
  EXPECT_TRUE(r.claim_conf_error.ok());
  EXPECT_TRUE(r.env_error.ok());
}

TEST_F(ResolveClaimInputsTest, ClaimConfWinsOverEnv) {
  WriteClaimConf(
      absl::StrCat("[global]\ntoken = ", kFileToken, "\nrooms = fileroom\n"));
  ClaimSourcesResult r = ResolveClaimInputs(dir_.path(), kEnv);
  ASSERT_TRUE(r.inputs.has_value());
  EXPECT_EQ(r.inputs->source, "claim.conf");
  EXPECT_EQ(r.inputs->token, kFileToken);
  EXPECT_EQ(r.inputs->rooms, std::vector<std::string>{"fileroom"});
  // Nothing from the environment is mixed in.
  EXPECT_FALSE(r.inputs->insecure);
  EXPECT_TRUE(r.claim_conf_error.ok());
  EXPECT_TRUE(r.env_error.ok());
}

TEST_F(ResolveClaimInputsTest, EnvWhenNoClaimConf) {
  ClaimSourcesResult r = ResolveClaimInputs(dir_.path(), kEnv);
  ASSERT_TRUE(r.inputs.has_value());
  EXPECT_EQ(r.inputs->source, "env");
  EXPECT_EQ(r.inputs->token, kEnvToken);
  EXPECT_TRUE(r.inputs->insecure);
  EXPECT_TRUE(r.claim_conf_error.ok());
}

TEST_F(ResolveClaimInputsTest, MalformedClaimConfFallsBackToEnvKeepingError) {
  WriteClaimConf(
      absl::StrCat("[global]\ntoken = ", kFileToken, "\ninsecure = perhaps\n"));
  ClaimSourcesResult r = ResolveClaimInputs(dir_.path(), kEnv);
  ASSERT_TRUE(r.inputs.has_value());
  EXPECT_EQ(r.inputs->source, "env");
  EXPECT_EQ(ReasonOf(r.claim_conf_error), "CONFIG_INVALID");
  EXPECT_TRUE(absl::StrContains(r.claim_conf_error.message(),
                                dir_.Join("claim.conf") + ":3:"));
  EXPECT_FALSE(absl::StrContains(r.claim_conf_error.message(), kFileToken));
}

TEST_F(ResolveClaimInputsTest, ClaimConfWithoutTokenFallsBackToEnv) {
  WriteClaimConf("[global]\nrooms = a\n");
  ClaimSourcesResult r = ResolveClaimInputs(dir_.path(), kEnv);
  ASSERT_TRUE(r.inputs.has_value());
  EXPECT_EQ(r.inputs->source, "env");
  EXPECT_TRUE(
      absl::StrContains(r.claim_conf_error.message(), "token is required"));
}

TEST_F(ResolveClaimInputsTest, BothBadGiveBothErrors) {
  WriteClaimConf("garbage\n");
  Environment env = {{"NETDATA_CLAIM_TOKEN", kEnvToken},
                     {"NETDATA_CLAIM_PROXY", "https://p"}};
  ClaimSourcesResult r = ResolveClaimInputs(dir_.path(), env);
  EXPECT_FALSE(r.inputs.has_value());
  EXPECT_EQ(ReasonOf(r.claim_conf_error), "CONFIG_INVALID");
  EXPECT_EQ(ReasonOf(r.env_error), "PROXY_UNSUPPORTED");
}

TEST_F(ResolveClaimInputsTest, MalformedClaimConfAndNoEnv) {
  WriteClaimConf("[global]\ntoken = x y\n");
  ClaimSourcesResult r = ResolveClaimInputs(dir_.path(), {});
  EXPECT_FALSE(r.inputs.has_value());
  EXPECT_EQ(ReasonOf(r.claim_conf_error), "TOKEN_INVALID_FORMAT");
  EXPECT_TRUE(r.env_error.ok());
}

}  // namespace
}  // namespace cloudlink::config
