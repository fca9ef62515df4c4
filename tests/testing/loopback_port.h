#pragma once

// Loopback TCP ports for programs that start servers side by side on one
// machine: the tests, the benchmarks and the dev cloud (whose mosquitto
// cannot listen on port 0 and tell its port). Not test-only, so that the
// benchmarks and the dev cloud can use it too. Thread-safe.

#include <memory>

#include "absl/status/statusor.h"

namespace cloudlink::testing {

// A TCP port on 127.0.0.1 that was free when asked (bound to port 0, then
// released). Each call in one process returns a different port. UNAVAILABLE
// (NO_FREE_PORT) when no socket can be bound.
absl::StatusOr<int> PickFreeLoopbackPort();

// True when something accepts TCP connections on 127.0.0.1:`port` now.
bool LoopbackPortAcceptsConnections(int port);

// A TCP socket listening on 127.0.0.1 at a port the kernel picked, for a
// server of the program's own. Until someone accepts them, connections wait
// in the backlog: a server that never answers needs nothing more. The socket
// is closed on destruction.
class LoopbackListener {
 public:
  // UNAVAILABLE (NO_FREE_PORT) when no socket can listen.
  static absl::StatusOr<std::unique_ptr<LoopbackListener>> Open(
      int backlog = 64);
  ~LoopbackListener();
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;

  // The listening socket, for accept() and poll(); it stays owned here.
  int fd() const { return fd_; }
  int port() const { return port_; }

 private:
  LoopbackListener(int fd, int port) : fd_(fd), port_(port) {}

  const int fd_;
  const int port_;
};

}  // namespace cloudlink::testing
