#pragma once

// The API's Unix socket path: the parent directory exists
// with mode 0750, a stale socket left by a dead daemon is replaced, and a
// socket a live daemon still answers on is never taken over.

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/optional.h"

namespace cloudlink::api {

// Makes `path` ready to listen on. Creates the socket's own directory (0750)
// when missing, but no directory above it. Errors: SOCKET_IN_USE (another
// daemon accepts connections there), SOCKET_PATH_INVALID (too long for
// sockaddr_un, relative, or an existing non-socket file), SOCKET_DIR_FAILED
// (cannot create the directory, or its parent is missing).
absl::Status PrepareSocketPath(const std::string& path);

// Binds `path` (prepared with PrepareSocketPath), gives it mode 0660 and
// group `group` (and read-write to `extra_group` by a POSIX ACL entry, with
// search on its own directory; one warning when the file system refuses
// ACLs), and only then listens, so the socket never accepts a connection
// with a wider mode. The socket's own directory (owned by this uid, mode
// 0750) gets `group` too. Returns the listening descriptor (non-blocking,
// close-on-exec). Errors: SOCKET_LISTEN_FAILED (socket, bind or listen
// failed; the path is too long), SOCKET_MODE_FAILED (chmod or chown failed;
// the socket file is removed).
absl::StatusOr<int> ListenOnUnixSocket(const std::string& path, gid_t group,
                                       absl::optional<gid_t> extra_group);

}  // namespace cloudlink::api
