#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "server/common/error.h"
#include "server/common/redact.h"
#include "server/common/uuid.h"

namespace cloudlink {
namespace {

TEST(ErrorTest, MessageStartsWithReason) {
  absl::Status s =
      Error(absl::StatusCode::kPermissionDenied, reason::kTokenInvalid,
            "the cloud rejected the claim token");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "TOKEN_INVALID: the cloud rejected the claim token");
  EXPECT_EQ(ReasonOf(s), "TOKEN_INVALID");
}

TEST(ErrorTest, ReasonOfPlainMessageIsEmpty) {
  EXPECT_EQ(ReasonOf(absl::InternalError("no reason here")), "");
  EXPECT_EQ(ReasonOf(absl::InternalError("lower: case")), "");
  EXPECT_EQ(ReasonOf(absl::InternalError("NOCOLON")), "");
}

TEST(ErrorTest, ReasonTravelsAsAPayload) {
  absl::Status s = Error(absl::StatusCode::kUnavailable, reason::kConnectFailed,
                         "connection refused");
  absl::optional<absl::Cord> payload = s.GetPayload(kReasonPayloadUrl);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(std::string(*payload), "CONNECT_FAILED");
  EXPECT_TRUE(HasReason(s, reason::kConnectFailed));
  EXPECT_FALSE(HasReason(s, reason::kConnectTimeout));
  EXPECT_TRUE(MetadataOf(s).empty());
}

TEST(ErrorTest, ReasonIsReadFromThePayloadNotTheText) {
  // Text that looks like a reason is not one: decisions never parse text.
  absl::Status text_only = absl::UnavailableError("CONNECT_FAILED: refused");
  EXPECT_EQ(ReasonOf(text_only), "");
  EXPECT_FALSE(HasReason(text_only, reason::kConnectFailed));
  // The payload is what counts, whatever the message says.
  absl::Status relabelled = absl::UnavailableError("something else");
  relabelled.SetPayload(kReasonPayloadUrl, absl::Cord("PROXY_FAILED"));
  EXPECT_EQ(ReasonOf(relabelled), "PROXY_FAILED");
  EXPECT_TRUE(HasReason(relabelled, reason::kProxyFailed));
  EXPECT_EQ(ReasonOf(absl::OkStatus()), "");
}

TEST(ErrorTest, ErrorTextIsTheMessageErrorWrites) {
  EXPECT_EQ(ErrorText(reason::kNotClaimed, "the node is not claimed"),
            Error(absl::StatusCode::kFailedPrecondition, reason::kNotClaimed,
                  "the node is not claimed")
                .message());
}

TEST(ErrorTest, CloudHttpErrorKeepsTheStatusInTextAndMetadata) {
  absl::Status s =
      CloudHttpError(absl::StatusCode::kUnavailable, 503, "try later");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "CLOUD_ERROR_503: try later");
  EXPECT_EQ(ReasonOf(s), "CLOUD_ERROR");
  EXPECT_TRUE(HasReason(s, reason::kCloudError));
  const std::map<std::string, std::string> expected = {{"http_status", "503"}};
  EXPECT_EQ(MetadataOf(s), expected);
}

TEST(ErrorTest, WithCodeKeepsMessageReasonAndMetadata) {
  absl::Status s =
      CloudHttpError(absl::StatusCode::kInvalidArgument, 418, "teapot");
  absl::Status recoded = WithCode(s, absl::StatusCode::kUnavailable);
  EXPECT_EQ(recoded.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(recoded.message(), s.message());
  EXPECT_TRUE(HasReason(recoded, reason::kCloudError));
  EXPECT_EQ(MetadataOf(recoded), MetadataOf(s));
  EXPECT_TRUE(WithCode(absl::OkStatus(), absl::StatusCode::kInternal).ok());
}

// Nothing of a secret shows: not its tail, its length, nor whether it is
// empty. (Tokens are 72 characters, API tokens 48, proxy passwords anything.)
TEST(RedactTest, SecretShowsNothingOfIt) {
  EXPECT_EQ(RedactSecret(""), "****");
  EXPECT_EQ(RedactSecret("short"), "****");
  EXPECT_EQ(RedactSecret("abcdefghijklmnop"), "****");
  EXPECT_EQ(RedactSecret(std::string(72, 't')), "****");
}

TEST(RedactTest, UrlPasswordIsHidden) {
  EXPECT_EQ(RedactUrlCredentials("http://bob:s3cret@proxy:3128"),
            "http://bob:****@proxy:3128");
  EXPECT_EQ(RedactUrlCredentials("socks5h://u:p@h:1080/x"),
            "socks5h://u:****@h:1080/x");
  EXPECT_EQ(RedactUrlCredentials("http://proxy:3128"), "http://proxy:3128");
  EXPECT_EQ(RedactUrlCredentials("env"), "env");
  // A user name alone is not a secret, but is marked so nothing is guessed.
  EXPECT_EQ(RedactUrlCredentials("http://bob@proxy"), "http://bob:****@proxy");
  // The user info ends at the last '@': an unencoded '@' or ':' in the
  // password shows nothing of it.
  EXPECT_EQ(RedactUrlCredentials("http://bob:p@ss:w@proxy:3128/"),
            "http://bob:****@proxy:3128/");
  EXPECT_EQ(RedactUrlCredentials("http://:s3cret@proxy"), "http://:****@proxy");
  EXPECT_EQ(RedactUrlCredentials("bob:s3cret@proxy:3128"),
            "bob:****@proxy:3128");
}

TEST(UuidTest, NewIsV4LowercaseAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string u = NewUuidV4();
    ASSERT_TRUE(IsUuid(u)) << u;
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b');
    EXPECT_EQ(u, LowercaseUuid(u));
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(UuidTest, RejectsMalformed) {
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("53aa76c2-8af5-448f-849a-b16872cc4ba"));
  EXPECT_FALSE(IsUuid("53aa76c2x8af5-448f-849a-b16872cc4ba1"));
  EXPECT_FALSE(IsUuid("53aa76c2-8af5-448f-849a-b16872cc4bag"));
  EXPECT_TRUE(IsUuid("53AA76C2-8AF5-448F-849A-B16872CC4BA1"));
}

}  // namespace
}  // namespace cloudlink
