#include "server/config/claim_inputs.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "server/common/error.h"

namespace cloudlink::config {
namespace {

constexpr char kToken[] = "tok-SECRET-1234567890_abcdefXYZ";

ClaimInputs Valid() {
  ClaimInputs inputs;
  inputs.token = kToken;
  inputs.rooms = {"room1", "9f1c2b3a-0000-4000-8000-000000000001"};
  inputs.source = "rpc";
  return inputs;
}

void ExpectRefused(const absl::Status& status, absl::string_view reason,
                   absl::string_view message_part) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(ReasonOf(status), reason) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), message_part)) << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "SECRET")) << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "pw-secret")) << status;
}

TEST(ClaimInputsTest, Defaults) {
  ClaimInputs inputs;
  EXPECT_EQ(inputs.url, "https://app.netdata.cloud");
  EXPECT_EQ(inputs.proxy, "env");
  EXPECT_FALSE(inputs.insecure);
  EXPECT_TRUE(inputs.rooms.empty());
  EXPECT_TRUE(inputs.token.empty());
}

TEST(ValidateClaimInputsTest, ValidInputsPass) {
  EXPECT_TRUE(ValidateClaimInputs(Valid()).ok());
  ClaimInputs inputs = Valid();
  inputs.url = "https://cloud.example:8443/prefix";
  inputs.proxy = "socks5h://u:pw-secret@[::1]:1080";
  inputs.rooms.clear();
  EXPECT_TRUE(ValidateClaimInputs(inputs).ok());
  inputs.url = "HTTPS://[::1]:443";
  EXPECT_TRUE(ValidateClaimInputs(inputs).ok());
}

TEST(ValidateClaimInputsTest, Token) {
  ClaimInputs inputs = Valid();
  inputs.token = "";
  ExpectRefused(ValidateClaimInputs(inputs), "TOKEN_INVALID_FORMAT", "empty");
  inputs.token = std::string(kToken) + " tail";
  ExpectRefused(ValidateClaimInputs(inputs), "TOKEN_INVALID_FORMAT", "space");
  inputs.token = std::string(kToken) + "\n";
  ExpectRefused(ValidateClaimInputs(inputs), "TOKEN_INVALID_FORMAT", "control");
  inputs.token = std::string(kToken) + "\xC3\xA9";
  ExpectRefused(ValidateClaimInputs(inputs), "TOKEN_INVALID_FORMAT",
                "non-ASCII");
  inputs.token = "SECRET" + std::string(1019, 'a');  // 1025 bytes
  ExpectRefused(ValidateClaimInputs(inputs), "TOKEN_INVALID_FORMAT", "1024");
  inputs.token = std::string(1024, 'a');
  EXPECT_TRUE(ValidateClaimInputs(inputs).ok());
}

struct UrlCase {
  const char* url;
  const char* message_part;
};

class ValidateClaimUrlTest : public ::testing::TestWithParam<UrlCase> {};

TEST_P(ValidateClaimUrlTest, Refused) {
  ExpectRefused(ValidateClaimUrl(GetParam().url), "URL_INVALID",
                GetParam().message_part);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ValidateClaimUrlTest,
    ::testing::Values(
        UrlCase{"http://app.netdata.cloud", "must use https://, not http://"},
        UrlCase{"HTTP://127.0.0.1:8080", "not http://"},
        UrlCase{"app.netdata.cloud", "must look like https://"},
        UrlCase{"ftp://x", "must start with https://"},
        UrlCase{"https://", "no host"}, UrlCase{"https://:443", "no host"},
        UrlCase{"https://h:0", "port"}, UrlCase{"https://h:99999", "port"},
        UrlCase{"https://h:x", "port"},
        UrlCase{"https://user:pw-secret@h", "user name or password"},
        UrlCase{"https://h/?q=1", "query"}, UrlCase{"https://h/#f", "fragment"},
        UrlCase{"https://h o", "space"},
        UrlCase{"https://h_o!st", "characters"},
        UrlCase{"https://::1", "in brackets"},
        UrlCase{"https://[::1", "no ']'"},
        UrlCase{"https://[::1]x", "unexpected text"},
        UrlCase{"https://[xyz]", "IPv6"}));

TEST(ValidateClaimInputsTest, Rooms) {
  ClaimInputs inputs = Valid();
  inputs.rooms = {"ok", ""};
  ExpectRefused(ValidateClaimInputs(inputs), "ROOMS_INVALID",
                "room 2 is empty");
  inputs.rooms = {std::string(129, 'r')};
  ExpectRefused(ValidateClaimInputs(inputs), "ROOMS_INVALID", "128 bytes");
  inputs.rooms = {std::string(128, 'r')};
  EXPECT_TRUE(ValidateClaimInputs(inputs).ok());
  inputs.rooms = {"a b"};
  ExpectRefused(ValidateClaimInputs(inputs), "ROOMS_INVALID",
                "room 1 ('a b') has characters");
  inputs.rooms = {"a,b"};
  ExpectRefused(ValidateClaimInputs(inputs), "ROOMS_INVALID", "characters");
  inputs.rooms = std::vector<std::string>(1001, "r");
  ExpectRefused(ValidateClaimInputs(inputs), "ROOMS_INVALID", "at most 1000");
  inputs.rooms = std::vector<std::string>(1000, "r");
  EXPECT_TRUE(ValidateClaimInputs(inputs).ok());
}

TEST(ValidateClaimInputsTest, Proxy) {
  ClaimInputs inputs = Valid();
  for (const char* ok : {"", "none", "env", "http://p:3128",
                         "socks5://u:pw-secret@p", "socks5h://p"}) {
    inputs.proxy = ok;
    EXPECT_TRUE(ValidateClaimInputs(inputs).ok()) << ok;
  }
  inputs.proxy = "https://u:pw-secret@p:3128";
  ExpectRefused(ValidateClaimInputs(inputs), "PROXY_UNSUPPORTED",
                "TLS to the proxy is not supported");
  inputs.proxy = "http://u:pw-secret@p:70000";
  ExpectRefused(ValidateClaimInputs(inputs), "PROXY_INVALID", "port");
}

TEST(ValidateClaimInputsTest, FirstFailureInFieldOrder) {
  ClaimInputs inputs = Valid();
  inputs.token = "";
  inputs.url = "http://x";
  EXPECT_EQ(ReasonOf(ValidateClaimInputs(inputs)), "TOKEN_INVALID_FORMAT");
}

TEST(CanonicalCloudUrlTest, StripsTrailingSlashesAndSpace) {
  EXPECT_EQ(CanonicalCloudUrl(" https://a.example/ "), "https://a.example");
  EXPECT_EQ(CanonicalCloudUrl("https://a.example/p//"), "https://a.example/p");
  EXPECT_EQ(CanonicalCloudUrl("https://a.example"), "https://a.example");
  EXPECT_EQ(CanonicalCloudUrl("https:///"), "https://");
}

}  // namespace
}  // namespace cloudlink::config
