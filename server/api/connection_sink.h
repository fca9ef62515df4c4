#pragma once

// Where the API's listeners (unix_socket_listener.h, tls_listener.h) put
// each connection they accepted, checked and registered in the
// UnixPeerRegistry: the gRPC server, which serves it from then on. An
// interface so that the listeners need not know whether that server runs
// all the time or only while it has connections (on_demand_server.h).

#include "absl/status/status.h"

namespace cloudlink::api {

class ConnectionSink {
 public:
  virtual ~ConnectionSink() = default;

  // Takes the connected socket `fd`, whatever the outcome: gRPC owns it on
  // success, and it has been closed on error (then gRPC could not be
  // started: UNAVAILABLE LISTEN_FAILED, or the API is stopping).
  // Thread-safe.
  virtual absl::Status Adopt(int fd) = 0;
};

}  // namespace cloudlink::api
