#pragma once

// The credentials of each connection accepted on the API's Unix socket, found
// again from a call's peer name. gRPC names a connection it was handed as a
// file descriptor "fd:N" (ServerContext::peer()), so the registry is keyed by
// the descriptor number N.
//
// Descriptor numbers are reused once gRPC closes a connection. Two rules keep
// a call from ever getting another connection's credentials:
//  - an entry remembers which socket it describes (device and inode, unique
//    while the socket is open); Lookup answers only while N still refers to
//    that socket, so a call arriving after its connection ended is refused
//    rather than matched to whatever now holds N;
//  - the listener hands gRPC descriptor numbers in rotation (see
//    unix_socket_listener.h), so a number returns only after the whole range
//    has been used, long after any call of the old connection has started.

#include <sys/types.h>

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/api/peer_credentials.h"
#include "server/common/mutex.h"

namespace cloudlink::api {

class UnixPeerRegistry {
 public:
  // "fd:N", the peer name gRPC gives calls on a connection it got as `fd`.
  static std::string PeerName(int fd);

  // Records `credentials` for the open socket `fd`, replacing what an earlier
  // (ended) connection with the same number left, and drops entries of ended
  // connections. Call before gRPC gets the descriptor. INTERNAL when `fd` is
  // not open.
  absl::Status Register(int fd, UnixCredentials credentials);

  // The credentials of the connection a call with peer name `peer` came on.
  // NOT_FOUND when `peer` is not "fd:N", nothing was registered for N, or N
  // no longer refers to the registered socket (the connection ended).
  absl::StatusOr<UnixCredentials> Lookup(absl::string_view peer) const;

  // Entries held (live or not yet swept). For tests.
  size_t size() const;

 private:
  struct SocketId {
    dev_t device = 0;
    ino_t inode = 0;
    bool operator==(const SocketId& other) const {
      return device == other.device && inode == other.inode;
    }
  };
  struct Entry {
    SocketId socket;
    UnixCredentials credentials;
  };
  // The socket `fd` refers to now; false when it is not open.
  static bool CurrentSocket(int fd, SocketId* id);

  mutable Mutex mu_;
  std::map<int, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cloudlink::api
