#include "server/api/grpc_status.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/common/error.h"

namespace cloudlink::api {
namespace {

google::rpc::Status DetailsOf(const grpc::Status& status) {
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(status.error_details()));
  return details;
}

TEST(GrpcStatusTest, ReasonTravelsAsErrorInfo) {
  const grpc::Status status = ToGrpcStatus(
      Error(absl::StatusCode::kPermissionDenied, reason::kTokenInvalid,
            "the cloud rejected the claim token (HTTP 403)"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(),
            "TOKEN_INVALID: the cloud rejected the claim token (HTTP 403)");
  const google::rpc::Status details = DetailsOf(status);
  EXPECT_EQ(details.code(), 7);  // google.rpc.Code PERMISSION_DENIED
  EXPECT_EQ(details.message(), status.error_message());
  ASSERT_EQ(details.details_size(), 1);
  EXPECT_EQ(details.details(0).type_url(),
            "type.googleapis.com/google.rpc.ErrorInfo");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "TOKEN_INVALID");
  EXPECT_EQ(info.domain(), "cloudlink.v1");
  EXPECT_TRUE(info.metadata().empty());
}

TEST(GrpcStatusTest, MetadataTravelsInTheErrorInfo) {
  const grpc::Status status = ToGrpcStatus(CloudHttpError(
      absl::StatusCode::kUnavailable, 503, "the cloud answered HTTP 503"));
  EXPECT_EQ(status.error_message(),
            "CLOUD_ERROR_503: the cloud answered HTTP 503");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(DetailsOf(status).details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "CLOUD_ERROR");
  ASSERT_EQ(info.metadata().count("http_status"), 1u);
  EXPECT_EQ(info.metadata().at("http_status"), "503");
}

TEST(GrpcStatusTest, StatusWithoutAReasonHasNoDetails) {
  const grpc::Status status = ToGrpcStatus(absl::InternalError("boom"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message(), "boom");
  EXPECT_EQ(status.error_details(), "");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(GrpcStatusTest, RoundTripKeepsCodeMessageReasonAndMetadata) {
  const absl::Status original = CloudHttpError(
      absl::StatusCode::kUnavailable, 504, "the cloud answered HTTP 504");
  const absl::Status back = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_EQ(back.code(), original.code());
  EXPECT_EQ(back.message(), original.message());
  EXPECT_TRUE(HasReason(back, reason::kCloudError));
  EXPECT_EQ(MetadataOf(back), MetadataOf(original));
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(GrpcStatusTest, FromGrpcStatusIgnoresOtherDomainsAndGarbage) {
  google::rpc::ErrorInfo foreign;
  foreign.set_reason("API_KEY_INVALID");
  foreign.set_domain("googleapis.com");
  google::rpc::Status details;
  details.set_code(3);
  details.add_details()->PackFrom(foreign);
  const absl::Status other = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "API_KEY_INVALID: x",
                   details.SerializeAsString()));
  EXPECT_EQ(other.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(other), "");

  const absl::Status garbage = FromGrpcStatus(grpc::Status(
      grpc::StatusCode::UNAVAILABLE, "CONNECT_FAILED: x", "\xff\xff\xff"));
  EXPECT_EQ(garbage.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(garbage), "");  // the text alone is not a reason
}

}  // namespace
}  // namespace cloudlink::api
