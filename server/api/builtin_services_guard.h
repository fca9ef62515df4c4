#pragma once

// Server reflection and grpc.health.v1 under the same policy as GetState: a
// caller who may not read the node's state gets nothing from them either
// (the call is cancelled before it is served), and their streams (server
// reflection's) take a slot from the stream caps like WatchState does
// (cancelled when there is none). An unlisted certificate on --listen, or a
// uid outside the socket's group that got a connection, learns nothing.

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "server/api/authorizer.h"
#include "server/api/stream_limits.h"

namespace cloudlink::api {

// `authorizer` and `limits` must outlive the server. Calls of the CloudLink
// service itself are left alone (it authorizes them itself).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
BuiltinServicesGuardFactory(const Authorizer* authorizer, StreamLimits* limits);

}  // namespace cloudlink::api
