#include "server/config/env_claim.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "server/common/error.h"

namespace cloudlink::config {
namespace {

constexpr char kToken[] = "envSECRETtoken0123456789abcdefghij";

ClaimInputs MustLoad(const Environment& env) {
  absl::StatusOr<absl::optional<ClaimInputs>> r = LoadEnvClaim(env);
  EXPECT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r.ok() && r->has_value());
  return r.ok() && r->has_value() ? **r : ClaimInputs{};
}

TEST(LoadEnvClaimTest, NoTokenMeansNoInputs) {
  for (const Environment& env :
       {Environment{}, Environment{{"NETDATA_CLAIM_TOKEN", ""}},
        Environment{{"NETDATA_CLAIM_URL", "https://x"},
                    {"NETDATA_CLAIM_ROOMS", "a"}}}) {
    absl::StatusOr<absl::optional<ClaimInputs>> r = LoadEnvClaim(env);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->has_value());
  }
}

TEST(LoadEnvClaimTest, TokenOnlyGivesDefaults) {
  ClaimInputs inputs = MustLoad({{"NETDATA_CLAIM_TOKEN", kToken}});
  EXPECT_EQ(inputs.token, kToken);
  EXPECT_EQ(inputs.url, "https://app.netdata.cloud");
  EXPECT_EQ(inputs.proxy, "env");
  EXPECT_FALSE(inputs.insecure);
  EXPECT_TRUE(inputs.rooms.empty());
  EXPECT_EQ(inputs.source, "env");
}

TEST(LoadEnvClaimTest, AllVariables) {
  ClaimInputs inputs = MustLoad({{"NETDATA_CLAIM_TOKEN", kToken},
                                 {"NETDATA_CLAIM_URL", "https://c.example/"},
                                 {"NETDATA_CLAIM_ROOMS", " r1 ,, r2,"},
                                 {"NETDATA_CLAIM_PROXY", "socks5h://p:1"},
                                 {"NETDATA_EXTRA_CLAIM_OPTS", "-insecure"}});
  EXPECT_EQ(inputs.url, "https://c.example");
  EXPECT_EQ(inputs.rooms, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(inputs.proxy, "socks5h://p:1");
  EXPECT_TRUE(inputs.insecure);
}

TEST(LoadEnvClaimTest, ExtraOptsOnlyExactInsecureWord) {
  auto insecure = [](const char* opts) {
    return MustLoad({{"NETDATA_CLAIM_TOKEN", kToken},
                     {"NETDATA_EXTRA_CLAIM_OPTS", opts}})
        .insecure;
  };
  EXPECT_TRUE(insecure("-foo  -insecure -bar"));
  EXPECT_TRUE(insecure("\t-insecure\n"));
  EXPECT_FALSE(insecure(""));
  EXPECT_FALSE(insecure("-insecure=no"));
  EXPECT_FALSE(insecure("insecure"));
  EXPECT_FALSE(insecure("-verbose -id=x"));
}

TEST(LoadEnvClaimTest, EmptyVariablesKeepDefaults) {
  ClaimInputs inputs = MustLoad({{"NETDATA_CLAIM_TOKEN", kToken},
                                 {"NETDATA_CLAIM_URL", ""},
                                 {"NETDATA_CLAIM_PROXY", ""}});
  EXPECT_EQ(inputs.url, "https://app.netdata.cloud");
  EXPECT_EQ(inputs.proxy, "env");
  EXPECT_EQ(MustLoad({{"NETDATA_CLAIM_TOKEN", kToken},
                      {"NETDATA_CLAIM_PROXY", "none"}})
                .proxy,
            "none");
}

struct BadEnv {
  Environment env;
  const char* reason;
  const char* prefix;
};

class LoadEnvClaimErrorTest : public ::testing::TestWithParam<BadEnv> {};

TEST_P(LoadEnvClaimErrorTest, NamesVariableNeverSecrets) {
  absl::StatusOr<absl::optional<ClaimInputs>> r = LoadEnvClaim(GetParam().env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(r.status()), GetParam().reason);
  EXPECT_TRUE(absl::StartsWith(r.status().message(), GetParam().prefix))
      << r.status();
  EXPECT_FALSE(absl::StrContains(r.status().message(), "SECRET"));
  EXPECT_FALSE(absl::StrContains(r.status().message(), "pw-secret"));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LoadEnvClaimErrorTest,
    ::testing::Values(
        BadEnv{{{"NETDATA_CLAIM_TOKEN", "has SECRET space"}},
               "TOKEN_INVALID_FORMAT",
               "TOKEN_INVALID_FORMAT: NETDATA_CLAIM_TOKEN: "},
        BadEnv{{{"NETDATA_CLAIM_TOKEN", kToken},
                {"NETDATA_CLAIM_URL", "http://c.example"}},
               "URL_INVALID",
               "URL_INVALID: NETDATA_CLAIM_URL: "},
        BadEnv{
            {{"NETDATA_CLAIM_TOKEN", kToken}, {"NETDATA_CLAIM_ROOMS", "a,b/c"}},
            "ROOMS_INVALID",
            "ROOMS_INVALID: NETDATA_CLAIM_ROOMS: room 2"},
        BadEnv{{{"NETDATA_CLAIM_TOKEN", kToken},
                {"NETDATA_CLAIM_PROXY", "https://u:pw-secret@p"}},
               "PROXY_UNSUPPORTED",
               "PROXY_UNSUPPORTED: NETDATA_CLAIM_PROXY: TLS to the proxy"},
        BadEnv{{{"NETDATA_CLAIM_TOKEN", kToken},
                {"NETDATA_CLAIM_PROXY", "gopher://u:pw-secret@p"}},
               "PROXY_INVALID",
               "PROXY_INVALID: NETDATA_CLAIM_PROXY: "}));

}  // namespace
}  // namespace cloudlink::config
