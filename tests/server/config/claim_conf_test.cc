#include "server/config/claim_conf.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "tests/testing/test_env.h"

namespace cloudlink::config {
namespace {

constexpr char kPath[] = "/etc/cloudlink/claim.conf";
constexpr char kToken[] = "tokSECRETabcdefghijklmnopqrstuvwxyz0123456789";

TEST(ParseClaimConfTest, ReferenceDocExample) {
  absl::StatusOr<ClaimInputs> inputs = ParseClaimConf(
      absl::StrCat("[global]\n"
                   "   url = https://app.netdata.cloud\n"
                   "   token = ",
                   kToken,
                   "\n"
                   "   rooms = ROOM_KEY1,ROOM_KEY2,ROOM_KEY3\n"
                   "   proxy = http://username:password@myproxy:8080\n"
                   "   insecure = no\n"),
      kPath);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  EXPECT_EQ(inputs->url, "https://app.netdata.cloud");
  EXPECT_EQ(inputs->token, kToken);
  EXPECT_EQ(inputs->rooms,
            (std::vector<std::string>{"ROOM_KEY1", "ROOM_KEY2", "ROOM_KEY3"}));
  EXPECT_EQ(inputs->proxy, "http://username:password@myproxy:8080");
  EXPECT_FALSE(inputs->insecure);
  EXPECT_EQ(inputs->source, "claim.conf");
}

TEST(ParseClaimConfTest, OnlyTokenGivesDefaults) {
  absl::StatusOr<ClaimInputs> inputs =
      ParseClaimConf(absl::StrCat("[global]\ntoken = ", kToken, "\n"), kPath);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  EXPECT_EQ(inputs->url, "https://app.netdata.cloud");
  EXPECT_EQ(inputs->proxy, "env");
  EXPECT_FALSE(inputs->insecure);
  EXPECT_TRUE(inputs->rooms.empty());
}

TEST(ParseClaimConfTest, EmptyValues) {
  absl::StatusOr<ClaimInputs> inputs =
      ParseClaimConf(absl::StrCat("[global]\ntoken = ", kToken,
                                  "\nurl =\nrooms =\nproxy =\ninsecure =\n"),
                     kPath);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  EXPECT_EQ(inputs->url, "https://app.netdata.cloud");
  EXPECT_TRUE(inputs->rooms.empty());
  EXPECT_EQ(inputs->proxy, "");  // empty proxy = direct, per the doc
  EXPECT_FALSE(inputs->insecure);
}

TEST(ParseClaimConfTest, RoomsTrimmedUrlCanonicalInsecureSpellings) {
  for (const char* yes : {"yes", "YES", "true", "1", "on"}) {
    absl::StatusOr<ClaimInputs> inputs = ParseClaimConf(
        absl::StrCat("[global]\ntoken = ", kToken,
                     "\nrooms = a, b,,c \nurl = https://c.example:8443/\n"
                     "insecure = ",
                     yes, "\n"),
        kPath);
    ASSERT_TRUE(inputs.ok()) << inputs.status();
    EXPECT_EQ(inputs->rooms, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(inputs->url, "https://c.example:8443");
    EXPECT_TRUE(inputs->insecure) << yes;
  }
}

struct Malformed {
  std::string text;
  const char* reason;
  std::string message;  // exact
};

class MalformedClaimConfTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedClaimConfTest, NamesFileAndLineNeverSecrets) {
  absl::StatusOr<ClaimInputs> inputs = ParseClaimConf(GetParam().text, kPath);
  ASSERT_FALSE(inputs.ok());
  EXPECT_EQ(inputs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(inputs.status()), GetParam().reason);
  EXPECT_EQ(inputs.status().message(), GetParam().message);
  EXPECT_FALSE(absl::StrContains(inputs.status().message(), "SECRET"));
  EXPECT_FALSE(absl::StrContains(inputs.status().message(), "pw-secret"));
}

std::string WithToken(absl::string_view rest) {
  return absl::StrCat("[global]\n  token = ", kToken, "\n", rest);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedClaimConfTest,
    ::testing::Values(
        Malformed{WithToken("  tokn = x\n"), "CONFIG_INVALID",
                  "CONFIG_INVALID: /etc/cloudlink/claim.conf:3: unknown key "
                  "'tokn'; the valid keys are url, token, rooms, proxy, "
                  "insecure"},
        Malformed{WithToken("  insecure = maybe\n"), "CONFIG_INVALID",
                  "CONFIG_INVALID: /etc/cloudlink/claim.conf:3: insecure must "
                  "be yes or no (true/false, on/off and 1/0 work too)"},
        Malformed{WithToken("  proxy = https://u:pw-secret@p:3128\n"),
                  "PROXY_UNSUPPORTED",
                  "PROXY_UNSUPPORTED: /etc/cloudlink/claim.conf:3: TLS to the "
                  "proxy is not supported; use http:// — the link to the "
                  "cloud stays end-to-end encrypted through the tunnel"},
        Malformed{WithToken("  proxy = http://u:pw-secret@p:0\n"),
                  "PROXY_INVALID",
                  "PROXY_INVALID: /etc/cloudlink/claim.conf:3: the proxy port "
                  "'0' is not a number from 1 to 65535"},
        Malformed{"[global]\n  token =\n", "CONFIG_INVALID",
                  "CONFIG_INVALID: /etc/cloudlink/claim.conf:2: token is "
                  "required; add 'token = <claim token>' under [global], with "
                  "the token from your Space"},
        Malformed{"[global]\n  url = https://x\n", "CONFIG_INVALID",
                  "CONFIG_INVALID: /etc/cloudlink/claim.conf: token is "
                  "required; add 'token = <claim token>' under [global], with "
                  "the token from your Space"},
        Malformed{WithToken("this is garbage SECRET\n"), "CONFIG_INVALID",
                  "CONFIG_INVALID: /etc/cloudlink/claim.conf:3: expected 'key "
                  "= value' or '[section]'; comment lines start with '#' or "
                  "';'"},
        Malformed{WithToken("[cloud]\n"), "CONFIG_INVALID",
                  "CONFIG_INVALID: /etc/cloudlink/claim.conf:3: unknown "
                  "section 'cloud'; claim.conf has only '[global]'"},
        Malformed{absl::StrCat("token = ", kToken, "\n"), "CONFIG_INVALID",
                  "CONFIG_INVALID: /etc/cloudlink/claim.conf:1: settings must "
                  "follow a '[global]' line; add '[global]' above them"},
        Malformed{WithToken("  token = other\n"), "CONFIG_INVALID",
                  "CONFIG_INVALID: /etc/cloudlink/claim.conf:3: 'token' is set "
                  "twice (first at line 2); keep one of them"},
        Malformed{WithToken("  url = http://cloud.example\n"), "URL_INVALID",
                  "URL_INVALID: /etc/cloudlink/claim.conf:3: the cloud URL "
                  "must use https://, not http://: the claim sends the token "
                  "and the node's key"},
        Malformed{WithToken("  rooms = a, b c\n"), "ROOMS_INVALID",
                  "ROOMS_INVALID: /etc/cloudlink/claim.conf:3: room 2 ('b c') "
                  "has characters other than letters, digits, '-' and '_'; "
                  "use the room ids from the Space, separated by commas"},
        Malformed{"[global]\n  token = SECRET\x01x\n", "TOKEN_INVALID_FORMAT",
                  "TOKEN_INVALID_FORMAT: /etc/cloudlink/claim.conf:2: the "
                  "claim token contains a space, control or non-ASCII "
                  "character; copy it again without extra characters"}));

TEST(ParseClaimConfTest, PastedSecretAsKeyIsNotQuoted) {
  absl::StatusOr<ClaimInputs> inputs =
      ParseClaimConf(WithToken(absl::StrCat("  ", kToken, " = x\n")), kPath);
  ASSERT_FALSE(inputs.ok());
  EXPECT_TRUE(absl::StrContains(inputs.status().message(), "claim.conf:3:"));
  EXPECT_FALSE(absl::StrContains(inputs.status().message(), "SECRET"));
}

TEST(LoadClaimConfTest, MissingFileIsNoInputs) {
  testing::TempDir dir;
  absl::StatusOr<absl::optional<ClaimInputs>> r =
      LoadClaimConf(dir.Join("claim.conf"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->has_value());
}

TEST(LoadClaimConfTest, ReadsFile) {
  testing::TempDir dir;
  ASSERT_TRUE(testing::WriteFile(dir.Join("claim.conf"), WithToken("")).ok());
  absl::StatusOr<absl::optional<ClaimInputs>> r =
      LoadClaimConf(dir.Join("claim.conf"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->token, kToken);
}

TEST(LoadClaimConfTest, UnreadableIsError) {
  testing::TempDir dir;
  ASSERT_EQ(mkdir(dir.Join("claim.conf").c_str(), 0755), 0);
  absl::StatusOr<absl::optional<ClaimInputs>> r =
      LoadClaimConf(dir.Join("claim.conf"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ReasonOf(r.status()), "CONFIG_UNREADABLE");
}

TEST(LoadClaimConfTest, MalformedNamesRealPath) {
  testing::TempDir dir;
  ASSERT_TRUE(
      testing::WriteFile(dir.Join("claim.conf"), WithToken("insecure = 2\n"))
          .ok());
  absl::StatusOr<absl::optional<ClaimInputs>> r =
      LoadClaimConf(dir.Join("claim.conf"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StartsWith(
      r.status().message(),
      absl::StrCat("CONFIG_INVALID: ", dir.Join("claim.conf"), ":3: ")))
      << r.status();
}

}  // namespace
}  // namespace cloudlink::config
