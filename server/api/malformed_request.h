#pragma once

// Gives requests that do not parse a status a caller can act on.
//
// gRPC's synchronous server parses a unary request before the service runs.
// When protobuf refuses the bytes (a proto3 string field that is not valid
// UTF-8, or bytes that are not a message of the method's type), gRPC answers
// INTERNAL with an empty message: no reason, and the wrong code, since the
// fault is the caller's. This interceptor rewrites exactly that status,
// INTERNAL with an empty message, which no cloudlink handler returns (every
// error of ours carries a reason, see server/common/error.h), to
//
//   INVALID_ARGUMENT "REQUEST_MALFORMED: the <method> request did not parse
//   ..."
//
// with the reason as an ErrorInfo detail, like every error (grpc_status.h).
// Other statuses pass unchanged. Only unary calls are intercepted: on a
// stream, gRPC reports a message that does not parse to the handler as the
// end of the stream (see publish_stream.h), and a WatchState request that
// does not parse keeps gRPC's INTERNAL.

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace cloudlink::api {

// Register with ServerBuilder::experimental().SetInterceptorCreators().
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MalformedRequestInterceptorFactory();

}  // namespace cloudlink::api
