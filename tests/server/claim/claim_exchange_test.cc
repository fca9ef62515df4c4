#include "server/claim/claim_exchange.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/error.h"

namespace cloudlink::claim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::StartsWith;

constexpr char kClaimId[] = "53aa76c2-8af5-448f-849a-b16872cc4ba1";
constexpr char kGuid[] = "0b2a1c1e-1d2e-4f00-8a6b-2d1c9e8f7a6b";
constexpr char kPem[] =
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
    "-----END PUBLIC KEY-----\n";

ClaimParams Params() {
  ClaimParams params;
  params.url = "https://cloud.example:8443";
  params.token = "tok\"en-with-quote";
  params.rooms = {"room-a", "room_b"};
  params.hostname = "node-1";
  params.machine_guid = kGuid;
  params.public_key_pem = kPem;
  return params;
}

http::HttpResponse Response(int status, std::string body = "") {
  http::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

TEST(BuildClaimRequestTest, MethodUrlHeadersAndExactBody) {
  http::HttpRequest request = BuildClaimRequest(Params(), kClaimId);
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.url, absl::StrCat("https://cloud.example:8443/api/v1/"
                                      "spaces/nodes/",
                                      kClaimId));
  EXPECT_THAT(request.headers,
              ElementsAre(Pair("Content-Type", "application/json")));

  nlohmann::json body = nlohmann::json::parse(request.body);
  const nlohmann::json expected = {
      {"node", {{"id", kClaimId}, {"hostname", "node-1"}}},
      {"token", "tok\"en-with-quote"},
      {"rooms", {"room-a", "room_b"}},
      {"publicKey", kPem},
      {"mGUID", kGuid},
  };
  EXPECT_EQ(body, expected) << request.body;
}

TEST(BuildClaimRequestTest, NoRoomsIsAnEmptyArray) {
  ClaimParams params = Params();
  params.rooms.clear();
  nlohmann::json body =
      nlohmann::json::parse(BuildClaimRequest(params, kClaimId).body);
  ASSERT_TRUE(body["rooms"].is_array());
  EXPECT_TRUE(body["rooms"].empty());
}

TEST(ClaimResponseStatusTest, NoContentIsSuccess) {
  EXPECT_TRUE(ClaimResponseStatus(Response(204)).ok());
}

struct Row {
  int http_status;
  std::string body;
  absl::StatusCode code;
  std::string reason;
  bool retryable;
};

class ClaimResponseTableTest : public ::testing::TestWithParam<Row> {};

TEST_P(ClaimResponseTableTest, MapsToCodeAndReason) {
  const Row& row = GetParam();
  absl::Status status =
      ClaimResponseStatus(Response(row.http_status, row.body));
  EXPECT_EQ(status.code(), row.code) << status;
  // row.reason is the reason as people read it at the start of the message.
  // Programs read the registered reason: the same, except that
  // CLOUD_ERROR_<status> is CLOUD_ERROR with the HTTP status as metadata.
  EXPECT_THAT(std::string(status.message()), StartsWith(row.reason + ": "));
  if (HasReason(status, reason::kCloudError)) {
    EXPECT_EQ(row.reason, absl::StrCat("CLOUD_ERROR_", row.http_status));
    EXPECT_EQ(MetadataOf(status)["http_status"], absl::StrCat(row.http_status));
  } else {
    EXPECT_EQ(ReasonOf(status), row.reason) << status;
  }
  EXPECT_EQ(IsRetryable(status), row.retryable) << status;
  // A sentence for a person follows the reason.
  EXPECT_GT(status.message().size(), row.reason.size() + 10) << status;
}

std::string Key(const std::string& key) {
  return nlohmann::json{
      {"errorCode", "x"}, {"errorMsgKey", key}, {"errorMessage", "rejected"}}
      .dump();
}

INSTANTIATE_TEST_SUITE_P(
    SpecTable, ClaimResponseTableTest,
    ::testing::Values(
        Row{403, "", absl::StatusCode::kPermissionDenied, "TOKEN_INVALID",
            false},
        Row{409, "", absl::StatusCode::kAlreadyExists, "ALREADY_CLAIMED",
            false},
        Row{422, Key("ErrInvalidNodeID"), absl::StatusCode::kInvalidArgument,
            "INVALID_NODE_ID", false},
        Row{422, Key("ErrInvalidNodeName"), absl::StatusCode::kInvalidArgument,
            "INVALID_NODE_NAME", false},
        Row{422, Key("ErrInvalidRoomID"), absl::StatusCode::kInvalidArgument,
            "INVALID_ROOM_ID", false},
        Row{422, Key("ErrInvalidPublicKey"), absl::StatusCode::kInvalidArgument,
            "INVALID_PUBLIC_KEY", false},
        Row{422, Key("ErrSomethingNew"), absl::StatusCode::kInvalidArgument,
            "CLAIM_REJECTED", false},
        Row{422, "not json", absl::StatusCode::kInvalidArgument,
            "CLAIM_REJECTED", false},
        Row{422, R"({"errorMsgKey": 42})", absl::StatusCode::kInvalidArgument,
            "CLAIM_REJECTED", false},
        Row{422, "", absl::StatusCode::kInvalidArgument, "CLAIM_REJECTED",
            false},
        Row{500, "", absl::StatusCode::kUnavailable, "CLOUD_ERROR_500", true},
        Row{503, "", absl::StatusCode::kUnavailable, "CLOUD_ERROR_503", true},
        Row{504, "", absl::StatusCode::kUnavailable, "CLOUD_ERROR_504", true},
        Row{418, "", absl::StatusCode::kUnavailable, "CLOUD_ERROR_418", true},
        // A 403 with a body that names a 422 key is still a 403.
        Row{403, Key("ErrInvalidRoomID"), absl::StatusCode::kPermissionDenied,
            "TOKEN_INVALID", false}));

TEST(ClaimResponseStatusTest, UnknownKeyIsNamedInTheMessage) {
  absl::Status status = ClaimResponseStatus(Response(422, Key("ErrBrandNew")));
  EXPECT_THAT(std::string(status.message()), HasSubstr("ErrBrandNew"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("422"));
}

TEST(ClaimResponseStatusTest, InvalidRoomNamesTheRoomsSent) {
  const std::string body =
      R"({"errorMsgKey":"ErrInvalidRoomID","errorMessage":"a Room is not in the token's Space"})";
  absl::Status one = ClaimResponseStatus(Response(422, body), {"room-x"});
  EXPECT_EQ(ReasonOf(one), "INVALID_ROOM_ID");
  EXPECT_THAT(std::string(one.message()), HasSubstr("the room 'room-x'"));
  EXPECT_THAT(std::string(one.message()),
              HasSubstr("a Room is not in the token's Space"));
  absl::Status two = ClaimResponseStatus(Response(422, body), {"r1", "r2"});
  EXPECT_THAT(std::string(two.message()),
              HasSubstr("one of the rooms 'r1', 'r2'"));
}

TEST(ClaimResponseStatusTest, CloudTroublePromisesNoRetry) {
  absl::Status status = ClaimResponseStatus(Response(503));
  EXPECT_THAT(std::string(status.message()), HasSubstr("HTTP 503"));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("retried")));
}

TEST(ClaimResponseStatusTest, TokenInvalidSaysWhatToDo) {
  absl::Status status = ClaimResponseStatus(Response(403));
  EXPECT_THAT(std::string(status.message()), HasSubstr("HTTP 403"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("new token"));
}

TEST(IsRetryableTest, OnlyUnavailableIsRetried) {
  EXPECT_TRUE(IsRetryable(absl::UnavailableError("CONNECT_FAILED: x")));
  EXPECT_FALSE(IsRetryable(absl::OkStatus()));
  EXPECT_FALSE(IsRetryable(absl::PermissionDeniedError("TOKEN_INVALID: x")));
  EXPECT_FALSE(IsRetryable(absl::InvalidArgumentError("URL_INVALID: x")));
  EXPECT_FALSE(IsRetryable(absl::InternalError("x")));
  EXPECT_FALSE(IsRetryable(absl::DeadlineExceededError("x")));
}

}  // namespace
}  // namespace cloudlink::claim
