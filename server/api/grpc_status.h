#pragma once

// absl::Status → grpc::Status with the same canonical code and message (the
// message already starts with its UPPER_SNAKE reason).

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace cloudlink::api {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace cloudlink::api
