#pragma once

// Whether the directories cloudlinkd trusts can be changed by someone else.
// cloudlinkd reads its claim (cloud.d/cloud.conf: the cloud's URL, TLS
// settings), its keys and its spool from these directories, usually as
// root; a directory another user may write to would let that user redirect
// the link or point a state file at any file on the system.
//
// A directory is safe when
//   - it is owned by root or by this process's effective uid;
//   - it is not writable by other users, and writable by its group only when
//     that group is root's or this process's effective gid;
//   - each directory above it is owned by root or by this process's
//     effective uid and is not writable by others (or has the sticky bit,
//     as /tmp does, so that nobody else may replace what is in it);
//   - for the directories cloudlinkd makes itself (cloud.d/, registry/,
//     cloud.d/spool/), it is not a symbolic link. The lib and config
//     directories may be links; their targets are checked.
// A directory that does not exist yet is safe (cloudlinkd creates it with
// its own modes).

#include <string>

#include "absl/status/status.h"

namespace cloudlink::state {

// OK, or FAILED_PRECONDITION STATE_DIR_UNSAFE naming `path`, what is wrong
// and the command that fixes it. `may_be_link`: a symbolic link at `path`
// is followed and its target checked, instead of refused.
absl::Status CheckDirSafe(const std::string& path, bool may_be_link);

// Checks --config-dir, --lib-dir and the lib dir's registry/, cloud.d/ and
// cloud.d/spool/; the first unsafe one's error.
absl::Status CheckStateDirsSafe(const std::string& config_dir,
                                const std::string& lib_dir);

}  // namespace cloudlink::state
