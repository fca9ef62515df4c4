#pragma once

// Who is at the other end of a Unix socket connection: the kernel's
// SO_PEERCRED (pid, uid, gid at connect time) plus the groups the uid's
// account belongs to (getgrouplist), read once when the connection is
// accepted.

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cloudlink::api {

struct UnixCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;  // the peer process's effective gid
  // The gid above plus every group of the uid's account (/etc/group or
  // NSS); just the gid when the uid has no account.
  std::vector<gid_t> groups;

  // True when `group` is the peer's gid or one of its account's groups.
  bool InGroup(gid_t group) const;
};

// Reads the credentials of the peer connected on the Unix socket `fd`.
// INTERNAL when SO_PEERCRED fails (not a Unix socket). May block on NSS
// (group lookup). Thread-safe.
absl::StatusOr<UnixCredentials> ReadPeerCredentials(int fd);

// The groups of `uid`'s account plus `gid` (what ReadPeerCredentials stores
// in `groups`). Thread-safe.
std::vector<gid_t> AccountGroups(uid_t uid, gid_t gid);

// The name of group `gid`, or its number as text when it has none.
std::string GroupName(gid_t gid);

// The gid of the group called `name`; NOT_FOUND when there is none.
absl::StatusOr<gid_t> GroupId(const std::string& name);

}  // namespace cloudlink::api
