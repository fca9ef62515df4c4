#pragma once

// The API's Unix socket path: the parent directory exists
// with mode 0750, a stale socket left by a dead daemon is replaced, and a
// socket a live daemon still answers on is never taken over.

#include <string>

#include "absl/status/status.h"

namespace cloudlink::api {

// Makes `path` ready to listen on. Creates the socket's own directory (0750)
// when missing, but no directory above it. Errors: SOCKET_IN_USE (another
// daemon accepts connections there), SOCKET_PATH_INVALID (too long for
// sockaddr_un, relative, or an existing non-socket file), SOCKET_DIR_FAILED
// (cannot create the directory, or its parent is missing).
absl::Status PrepareSocketPath(const std::string& path);

}  // namespace cloudlink::api
