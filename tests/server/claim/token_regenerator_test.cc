#include "server/claim/token_regenerator.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "tests/server/claim/scripted_http_client.h"

namespace cloudlink::claim {
namespace {

using ::cloudlink::testing::HeaderValue;
using ::cloudlink::testing::ScriptedHttpClient;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kApiToken[] = "api-token-YWRtaW4tc2VjcmV0LTk4NzY1";
constexpr char kNewToken[] = "new-claim-token-bmV3LXNlY3JldC0xMjM0";

RegenerateParams Params() {
  RegenerateParams params;
  params.url = "https://cloud.example";
  params.space_id = "space-1_A";
  params.api_token = kApiToken;
  params.transport.insecure = true;
  return params;
}

class TokenRegeneratorTest : public ::testing::Test {
 protected:
  // Runs one regeneration with stderr captured into log_.
  absl::StatusOr<std::string> Regenerate(const RegenerateParams& params) {
    ::testing::internal::CaptureStderr();
    absl::StatusOr<std::string> token = RegenerateClaimToken(&http_, params);
    log_ = ::testing::internal::GetCapturedStderr();
    EXPECT_THAT(log_, Not(HasSubstr(kApiToken)));
    EXPECT_THAT(log_, Not(HasSubstr(kNewToken)));
    if (!token.ok()) {
      EXPECT_THAT(std::string(token.status().message()),
                  Not(HasSubstr(kApiToken)));
    }
    return token;
  }

  ScriptedHttpClient http_;
  std::string log_;
};

TEST_F(TokenRegeneratorTest, PostsWithBearerTokenAndReturnsTheNewToken) {
  http_.Respond(200, std::string(R"({"token":")") + kNewToken + R"("})");
  absl::StatusOr<std::string> token = Regenerate(Params());
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, kNewToken);
  ASSERT_EQ(http_.call_count(), 1);
  const ScriptedHttpClient::Call call = http_.calls()[0];
  EXPECT_EQ(call.request.method, "POST");
  EXPECT_EQ(call.request.url,
            "https://cloud.example/api/v1/spaces/space-1_A/claim-token/"
            "regenerate");
  EXPECT_EQ(HeaderValue(call.request, "Authorization"),
            std::string("Bearer ") + kApiToken);
  EXPECT_TRUE(call.options.insecure);
}

TEST_F(TokenRegeneratorTest, BadSpaceIdIsRefusedBeforeSending) {
  for (const std::string& space_id :
       {std::string(400, 'a'), std::string(""), std::string("a/b"),
        std::string("../x"), std::string("sp ace"), std::string("a?b=c")}) {
    SCOPED_TRACE(space_id.size() > 20 ? "400 chars" : space_id);
    RegenerateParams params = Params();
    params.space_id = space_id;
    absl::StatusOr<std::string> token = Regenerate(params);
    ASSERT_FALSE(token.ok());
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(token.status()), "SPACE_ID_INVALID");
  }
  EXPECT_EQ(http_.call_count(), 0);
}

TEST_F(TokenRegeneratorTest, BadApiTokenIsRefusedBeforeSending) {
  for (const std::string& api_token :
       {std::string(""), std::string("has space"), std::string("new\nline"),
        std::string(5000, 'x')}) {
    RegenerateParams params = Params();
    params.api_token = api_token;
    absl::StatusOr<std::string> token = Regenerate(params);
    ASSERT_FALSE(token.ok());
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(token.status()), "API_TOKEN_INVALID_FORMAT");
  }
  EXPECT_EQ(http_.call_count(), 0);
}

TEST_F(TokenRegeneratorTest, CloudRefusals) {
  struct Case {
    int status;
    absl::StatusCode code;
    std::string reason;
  };
  const Case cases[] = {
      {401, absl::StatusCode::kPermissionDenied, "API_TOKEN_REJECTED"},
      {403, absl::StatusCode::kPermissionDenied, "API_TOKEN_REJECTED"},
      {404, absl::StatusCode::kNotFound, "SPACE_NOT_FOUND"},
      {500, absl::StatusCode::kUnavailable, "CLOUD_ERROR_500"},
      {201, absl::StatusCode::kUnavailable, "CLOUD_ERROR_201"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status);
    // Even with a token in the body, a non-200 answer is a failure.
    http_.Respond(c.status, std::string(R"({"token":")") + kNewToken + "\"}");
    absl::StatusOr<std::string> token = Regenerate(Params());
    ASSERT_FALSE(token.ok());
    EXPECT_EQ(token.status().code(), c.code);
    // c.reason as people read it; CLOUD_ERROR_<status> is the registered
    // CLOUD_ERROR with the HTTP status as metadata.
    EXPECT_THAT(std::string(token.status().message()),
                StartsWith(c.reason + ": "));
    if (HasReason(token.status(), reason::kCloudError)) {
      EXPECT_EQ(c.reason, absl::StrCat("CLOUD_ERROR_", c.status));
      EXPECT_EQ(MetadataOf(token.status())["http_status"],
                absl::StrCat(c.status));
    } else {
      EXPECT_EQ(ReasonOf(token.status()), c.reason);
    }
    EXPECT_THAT(std::string(token.status().message()),
                HasSubstr(std::to_string(c.status)));
    EXPECT_THAT(log_, HasSubstr("CLAIM: token regeneration failed"));
  }
  EXPECT_EQ(http_.call_count(), 5);  // one request each, no retries
}

TEST_F(TokenRegeneratorTest, AnswerWithoutTokenIsInvalid) {
  for (const std::string& body :
       {std::string(""), std::string("{}"), std::string("not json"),
        std::string(R"({"token":""})"), std::string(R"({"token":42})"),
        std::string(R"(["token"])"), std::string(R"({"tok":"x"})")}) {
    SCOPED_TRACE(body);
    http_.Respond(200, body);
    absl::StatusOr<std::string> token = Regenerate(Params());
    ASSERT_FALSE(token.ok());
    EXPECT_EQ(token.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(ReasonOf(token.status()), "CLOUD_RESPONSE_INVALID");
  }
}

TEST_F(TokenRegeneratorTest, TransportErrorsPassThrough) {
  http_.Fail(Error(absl::StatusCode::kUnavailable, reason::kProxyAuth, "407"));
  absl::StatusOr<std::string> token = Regenerate(Params());
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(ReasonOf(token.status()), "PROXY_AUTH");
  EXPECT_EQ(http_.call_count(), 1);
}

}  // namespace
}  // namespace cloudlink::claim
