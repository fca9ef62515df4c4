#pragma once

// absl::Status ↔ grpc::Status. The code and message pass unchanged (the
// message already starts with its UPPER_SNAKE reason); an error's reason
// (server/common/error.h) also travels as gRPC's rich error details, so a
// client reads it without parsing text: the grpc-status-details-bin trailer
// holds a google.rpc.Status (code, message) with one google.rpc.ErrorInfo
// detail { reason: the reason's name, domain: kErrorDomain, metadata: the
// error's metadata, e.g. http_status for CLOUD_ERROR }.

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace cloudlink::api {

// ErrorInfo.domain of cloudlink's reasons.
inline constexpr char kErrorDomain[] = "cloudlink.v1";

// `status` as a gRPC status: same code and message, plus the details above
// when `status` carries a reason.
grpc::Status ToGrpcStatus(const absl::Status& status);

// `status` as an absl::Status: same code and message; the reason and metadata
// of a cloudlink ErrorInfo in its details become the status's (ReasonOf,
// MetadataOf). Details that do not parse, or of another domain, are ignored.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace cloudlink::api
