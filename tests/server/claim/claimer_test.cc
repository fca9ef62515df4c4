#include "server/claim/claimer.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/error.h"
#include "server/common/uuid.h"
#include "server/config/proxy.h"
#include "tests/server/claim/scripted_http_client.h"

namespace cloudlink::claim {
namespace {

using ::cloudlink::testing::ScriptedHttpClient;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kToken[] = "claim-token-c2VjcmV0LXZhbHVlLTEyMzQ1Njc4";
constexpr char kProxyPassword[] = "pr0xy-pa55w0rd";

ClaimParams Params() {
  ClaimParams params;
  params.url = "https://cloud.example";
  params.token = kToken;
  params.rooms = {"r1"};
  params.hostname = "node-1";
  params.machine_guid = "0b2a1c1e-1d2e-4f00-8a6b-2d1c9e8f7a6b";
  params.public_key_pem = "PEM";
  params.transport.proxy.kind = config::ProxyKind::kHttp;
  params.transport.proxy.host = "proxy.example";
  params.transport.proxy.port = 3128;
  params.transport.proxy.username = "bob";
  params.transport.proxy.password = kProxyPassword;
  params.transport.insecure = true;
  params.transport.ca_file = "/etc/ca.pem";
  return params;
}

bool IsUuidV4(const std::string& id) {
  return IsUuid(id) && id == LowercaseUuid(id) && id[14] == '4' &&
         std::string("89ab").find(id[19]) != std::string::npos;
}

// The claim id of a recorded request, from its URL; checks that the body
// names the same one.
std::string ClaimIdOf(const ScriptedHttpClient::Call& call) {
  const std::string prefix = "https://cloud.example/api/v1/spaces/nodes/";
  EXPECT_TRUE(absl::StartsWith(call.request.url, prefix)) << call.request.url;
  std::string id = call.request.url.substr(prefix.size());
  nlohmann::json body = nlohmann::json::parse(call.request.body);
  EXPECT_EQ(body["node"]["id"], id);
  return id;
}

class ClaimerTest : public ::testing::Test {
 protected:
  Claimer MakeClaimer() {
    Claimer::Options options;
    options.pause = [this](absl::Duration d) { pauses_.push_back(d); };
    return Claimer(&http_, options);
  }

  ScriptedHttpClient http_;
  std::vector<absl::Duration> pauses_;
};

TEST_F(ClaimerTest, SuccessOnFirstAttempt) {
  http_.Respond(204);
  Claimer claimer = MakeClaimer();
  absl::StatusOr<std::string> id = claimer.Claim(Params());
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_EQ(http_.call_count(), 1);
  EXPECT_EQ(*id, ClaimIdOf(http_.calls()[0]));
  EXPECT_TRUE(IsUuidV4(*id)) << *id;
  EXPECT_THAT(pauses_, IsEmpty());
}

TEST_F(ClaimerTest, PassesTheTransportOptionsThrough) {
  http_.Respond(204);
  Claimer claimer = MakeClaimer();
  ASSERT_TRUE(claimer.Claim(Params()).ok());
  const std::vector<ScriptedHttpClient::Call> calls = http_.calls();
  ASSERT_EQ(calls.size(), 1u);
  const http::TransportOptions& sent = calls[0].options;
  EXPECT_EQ(sent.proxy, Params().transport.proxy);
  EXPECT_TRUE(sent.insecure);
  EXPECT_EQ(sent.ca_file, "/etc/ca.pem");
  EXPECT_EQ(sent.connect_timeout, absl::Seconds(5));
  EXPECT_EQ(sent.total_timeout, absl::Seconds(10));
}

TEST_F(ClaimerTest, SuccessOnThirdAttemptWithAFreshClaimIdEachTime) {
  http_.RespondTimes(2, 503);
  http_.Respond(204);
  Claimer claimer = MakeClaimer();
  absl::StatusOr<std::string> id = claimer.Claim(Params());
  ASSERT_TRUE(id.ok()) << id.status();
  std::vector<ScriptedHttpClient::Call> calls = http_.calls();
  ASSERT_EQ(calls.size(), 3u);
  std::set<std::string> ids;
  for (const auto& call : calls) {
    std::string claim_id = ClaimIdOf(call);
    EXPECT_TRUE(IsUuidV4(claim_id)) << claim_id;
    ids.insert(claim_id);
  }
  EXPECT_EQ(ids.size(), 3u) << "a claim id was reused";
  EXPECT_EQ(*id, ClaimIdOf(calls[2]));  // the accepted one, not the first
  EXPECT_THAT(pauses_,
              ElementsAre(absl::Milliseconds(400), absl::Milliseconds(500)));
}

TEST_F(ClaimerTest, FiveAttemptsOn503WithGrowingPauses) {
  http_.RespondTimes(5, 503);
  http_.Respond(204);  // must never be reached
  Claimer claimer = MakeClaimer();
  absl::StatusOr<std::string> id = claimer.Claim(Params());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(HasReason(id.status(), reason::kCloudError)) << id.status();
  EXPECT_THAT(std::string(id.status().message()),
              StartsWith("CLOUD_ERROR_503: "));
  EXPECT_EQ(http_.call_count(), 5);
  EXPECT_EQ(http_.pending(), 1);
  EXPECT_THAT(pauses_,
              ElementsAre(absl::Milliseconds(400), absl::Milliseconds(500),
                          absl::Milliseconds(600), absl::Milliseconds(700)));
}

TEST_F(ClaimerTest, TransportErrorsAreRetriedAndTheLastOneReturned) {
  http_.Fail(
      Error(absl::StatusCode::kUnavailable, reason::kConnectFailed, "down"));
  http_.Fail(
      Error(absl::StatusCode::kUnavailable, reason::kProxyFailed, "nope"));
  http_.Respond(500);
  http_.Respond(504);
  http_.Fail(
      Error(absl::StatusCode::kUnavailable, reason::kTlsVerifyFailed, "ca"));
  Claimer claimer = MakeClaimer();
  absl::StatusOr<std::string> id = claimer.Claim(Params());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(ReasonOf(id.status()), "TLS_VERIFY_FAILED");
  EXPECT_EQ(http_.call_count(), 5);
  EXPECT_EQ(pauses_.size(), 4u);
}

TEST_F(ClaimerTest, NoRetryOnNonRetryableAnswers) {
  struct Case {
    int status;
    std::string body;
    std::string reason;
  };
  const Case cases[] = {
      {403, "", "TOKEN_INVALID"},
      {409, "", "ALREADY_CLAIMED"},
      {422, R"({"errorMsgKey":"ErrInvalidRoomID"})", "INVALID_ROOM_ID"},
      {422, R"({"errorMsgKey":"ErrWhatever"})", "CLAIM_REJECTED"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.reason);
    ScriptedHttpClient http;
    std::vector<absl::Duration> pauses;
    Claimer::Options options;
    options.pause = [&pauses](absl::Duration d) { pauses.push_back(d); };
    Claimer claimer(&http, options);
    http.Respond(c.status, c.body);
    http.Respond(204);  // a retry would succeed: it must not happen
    absl::StatusOr<std::string> id = claimer.Claim(Params());
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(ReasonOf(id.status()), c.reason);
    EXPECT_EQ(http.call_count(), 1);
    EXPECT_THAT(pauses, IsEmpty());
  }
}

TEST_F(ClaimerTest, MaxAttemptsIsAnOption) {
  http_.RespondTimes(3, 503);
  Claimer::Options options;
  options.max_attempts = 2;
  options.pause = [this](absl::Duration d) { pauses_.push_back(d); };
  Claimer claimer(&http_, options);
  EXPECT_FALSE(claimer.Claim(Params()).ok());
  EXPECT_EQ(http_.call_count(), 2);
  EXPECT_THAT(pauses_, ElementsAre(absl::Milliseconds(400)));
}

TEST_F(ClaimerTest, FailureLogLinesNameReasonUrlAndProxyButNoSecrets) {
  http_.Respond(503);
  http_.Respond(403);
  Claimer claimer = MakeClaimer();
  ::testing::internal::CaptureStderr();
  absl::StatusOr<std::string> id = claimer.Claim(Params());
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(log, HasSubstr("CLAIM:"));
  EXPECT_THAT(log, HasSubstr("CLOUD_ERROR_503"));
  EXPECT_THAT(log, HasSubstr("TOKEN_INVALID"));
  EXPECT_THAT(log, HasSubstr("https://cloud.example"));
  EXPECT_THAT(log, HasSubstr("http://bob:****@proxy.example:3128"));
  EXPECT_THAT(log, Not(HasSubstr(kToken)));
  EXPECT_THAT(log, Not(HasSubstr(kProxyPassword)));
  EXPECT_THAT(std::string(id.status().message()), Not(HasSubstr(kToken)));
  // One line per failed attempt, each starting with the CLAIM: tag.
  int claim_lines = 0;
  for (size_t pos = 0;
       (pos = log.find("CLAIM: attempt", pos)) != std::string::npos; ++pos) {
    ++claim_lines;
  }
  EXPECT_EQ(claim_lines, 2);
}

}  // namespace
}  // namespace cloudlink::claim
