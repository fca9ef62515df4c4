#pragma once

// One call of any method of a gRPC service, by its descriptor: requests and
// responses are protobuf messages of the method's types, carried as bytes by
// grpc::GenericStub over a bidirectional stream, which covers unary, client-,
// server- and bidirectional-streaming methods alike.

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace cloudlink::client {

// Yields the next request to send, nullptr when there are no more, or an
// error, which cancels the call. Called on a thread of its own, so it may
// block (e.g. reading standard input) while responses are printed.
using RequestSource =
    std::function<absl::StatusOr<std::unique_ptr<google::protobuf::Message>>()>;

// Receives each response as it arrives, on the calling thread.
using ResponseSink = std::function<void(const google::protobuf::Message&)>;

struct CallResult {
  // The call's final status from gRPC (the daemon's, or a transport one).
  grpc::Status status;
  // Responses received and handed to the sink.
  int64_t responses = 0;
  // Set when the call was cancelled locally: the request source failed, or a
  // response did not parse (reason BAD_RESPONSE).
  absl::Status local_error;
};

// Calls `method` ("/package.Service/Method") on `channel`. Sends every
// request the source yields, then half-closes; reads responses until the
// daemon ends the call. `timeout` is the deadline for the whole call;
// absl::InfiniteDuration() for none. Does not wait for the channel to become
// ready: an unreachable daemon fails fast with UNAVAILABLE. Blocks until the
// call is over; thread-safe (each call is independent).
CallResult CallMethod(const std::shared_ptr<grpc::Channel>& channel,
                      const google::protobuf::MethodDescriptor* method,
                      const RequestSource& next_request,
                      const ResponseSink& on_response, absl::Duration timeout);

// "/cloudlink.v1.CloudLink/GetState".
std::string MethodPath(const google::protobuf::MethodDescriptor* method);

}  // namespace cloudlink::client
