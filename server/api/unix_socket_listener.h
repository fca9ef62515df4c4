#pragma once

// The API's Unix socket, accepted by us rather than by gRPC: each connection's
// peer credentials (SO_PEERCRED, see peer_credentials.h) are recorded in a
// UnixPeerRegistry before the connection is handed to gRPC
// (a ConnectionSink: the gRPC server), so every call can be authorized.
//
// The socket is created with mode 0660 and the given group, and only then
// starts listening, so it never accepts a connection with a wider mode. The
// socket's directory gets the same group when it is the daemon's own: owned
// by this uid with mode 0750 (as PrepareSocketPath creates it), so members
// of the group can reach the socket; a directory set up otherwise is left as
// the operator made it.
//
// Descriptors are handed to gRPC under numbers taken in rotation from a range
// (see unix_peer_registry.h on descriptor reuse).
//
// Connections are capped (UnixSocketLimits): a connection over a cap is
// closed at once, before gRPC sees it; root's are never refused. An accept
// error (EMFILE, ENFILE, ECONNABORTED, ...) never ends the listener: it
// pauses 100 ms and tries again. Lines about both are rate-limited
// (log_throttle.h).

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "server/api/connection_sink.h"
#include "server/api/log_throttle.h"
#include "server/api/unix_peer_registry.h"
#include "server/api/unix_socket.h"

namespace cloudlink::api {

struct UnixSocketLimits {
  int max_per_uid = 64;    // open connections of one uid (not root)
  int max_not_root = 512;  // open connections of all uids but root
  // A group given access to the socket (read-write) and to its own
  // directory (search) by a POSIX ACL entry: --publisher-group. When the
  // file system refuses ACLs, one warning is logged.
  absl::optional<gid_t> extra_group;
};

class UnixSocketListener {
 public:
  // Binds `path` (prepared with PrepareSocketPath), sets its mode and group
  // `group`, listens, and starts the accept thread. `peers` and `sink` must
  // outlive the listener. Errors:
  // SOCKET_LISTEN_FAILED (socket, bind or listen failed), SOCKET_MODE_FAILED
  // (chmod or chown failed).
  static absl::StatusOr<std::unique_ptr<UnixSocketListener>> Start(
      const std::string& path, gid_t group, UnixPeerRegistry* peers,
      ConnectionSink* sink, UnixSocketLimits limits = UnixSocketLimits());

  // Stops accepting and joins the accept thread (it wakes at once), closes
  // the listening socket. Connections already handed over stay with the sink.
  // Does not remove the socket file. Idempotent.
  void Stop();
  ~UnixSocketListener();

  UnixSocketListener(const UnixSocketListener&) = delete;
  UnixSocketListener& operator=(const UnixSocketListener&) = delete;

 private:
  UnixSocketListener(int listen_fd, int wake_read, int wake_write,
                     UnixPeerRegistry* peers, ConnectionSink* sink,
                     UnixSocketLimits limits)
      : listen_fd_(listen_fd),
        wake_read_(wake_read),
        wake_write_(wake_write),
        peers_(peers),
        sink_(sink),
        limits_(limits) {}

  void AcceptLoop();
  // "" when `caller` may open one more connection, else why not.
  std::string OverLimit(const UnixCredentials& caller) const;

  int listen_fd_;
  int wake_read_;
  int wake_write_;
  UnixPeerRegistry* const peers_;
  ConnectionSink* const sink_;
  const UnixSocketLimits limits_;
  LogThrottle accept_errors_;
  LogThrottle refused_;
  std::thread accept_thread_;
  bool stopped_ = false;
};

}  // namespace cloudlink::api
