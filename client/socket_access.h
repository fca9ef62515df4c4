#pragma once

// Telling a caller who may not connect to cloudlinkd's Unix socket apart
// from a daemon that is not running, and saying who may connect and how to
// join: connecting needs search permission on every directory of the path
// and write permission on the socket, which the daemon grants to root and
// its admin group (0750 directory, 0660 socket).

#include <string>

#include "absl/types/optional.h"

namespace cloudlink::client {

// When this process may not connect to the socket at `path` because of
// permissions (EACCES on a directory of the path or on the socket), the
// sentence for a person: the path that refused, who may connect (root, and
// the group when that path's group has access: named from its gid), and how
// to join (usermod -aG GROUP USER then log in again, or only a new login
// when the account is a member already). absl::nullopt for any other cause
// (no socket, nothing listening). Makes one connect() attempt; thread-safe.
absl::optional<std::string> SocketPermissionProblem(const std::string& path);

}  // namespace cloudlink::client
