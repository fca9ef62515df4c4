#include "server/api/peer_credentials.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace cloudlink::api {
namespace {

// Buffer size for the *_r lookups when sysconf has no hint.
constexpr long kDefaultNssBuffer = 16384;

long NssBufferSize(int name) {
  const long size = sysconf(name);
  return size > 0 ? size : kDefaultNssBuffer;
}

}  // namespace

bool UnixCredentials::InGroup(gid_t group) const {
  return gid == group ||
         std::find(groups.begin(), groups.end(), group) != groups.end();
}

std::vector<gid_t> AccountGroups(uid_t uid, gid_t gid) {
  std::vector<gid_t> groups = {gid};
  std::vector<char> buffer(NssBufferSize(_SC_GETPW_R_SIZE_MAX));
  passwd account;
  passwd* found = nullptr;
  while (getpwuid_r(uid, &account, buffer.data(), buffer.size(), &found) ==
         ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  if (found == nullptr) return groups;
  int count = 32;
  std::vector<gid_t> listed(count);
  while (getgrouplist(account.pw_name, account.pw_gid, listed.data(), &count) <
         0) {
    listed.resize(std::max<size_t>(count, listed.size() * 2));
    count = static_cast<int>(listed.size());
  }
  listed.resize(count);
  for (gid_t group : listed) {
    if (std::find(groups.begin(), groups.end(), group) == groups.end()) {
      groups.push_back(group);
    }
  }
  return groups;
}

absl::StatusOr<UnixCredentials> ReadPeerCredentials(int fd) {
  ucred peer{};
  socklen_t length = sizeof(peer);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) {
    return absl::InternalError(absl::StrCat("SO_PEERCRED: ", strerror(errno)));
  }
  UnixCredentials credentials;
  credentials.pid = peer.pid;
  credentials.uid = peer.uid;
  credentials.gid = peer.gid;
  credentials.groups = AccountGroups(peer.uid, peer.gid);
  return credentials;
}

std::string GroupName(gid_t gid) {
  std::vector<char> buffer(NssBufferSize(_SC_GETGR_R_SIZE_MAX));
  group entry;
  group* found = nullptr;
  while (getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &found) ==
         ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  return found != nullptr ? std::string(entry.gr_name) : absl::StrCat(gid);
}

absl::StatusOr<gid_t> GroupId(const std::string& name) {
  std::vector<char> buffer(NssBufferSize(_SC_GETGR_R_SIZE_MAX));
  group entry;
  group* found = nullptr;
  while (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(),
                    &found) == ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("no group ", name));
  }
  return entry.gr_gid;
}

}  // namespace cloudlink::api
