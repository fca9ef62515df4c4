#include "client/socket_access.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace cloudlink::client {
namespace {

// errno of one connect() to `path`; 0 when it connected.
int ConnectErrno(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof(address.sun_path) - 1);
  const int result =
      connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  const int error = result == 0 ? 0 : errno;
  close(fd);
  return error;
}

// The first directory of `path` this process may not search, or "" when
// every one may be searched.
std::string FirstUnsearchableDir(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (access(dir.c_str(), X_OK) != 0 && errno == EACCES) return dir;
  }
  return "";
}

std::string UserName(uid_t uid) {
  std::vector<char> buffer(16384);
  passwd entry;
  passwd* found = nullptr;
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr) {
    return found->pw_name;
  }
  return "";
}

std::string GroupName(gid_t gid) {
  std::vector<char> buffer(16384);
  group entry;
  group* found = nullptr;
  if (getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr) {
    return found->gr_name;
  }
  return "";
}

// Whether the account `user` (primary group `primary`) lists `gid`.
bool AccountHasGroup(const std::string& user, gid_t primary, gid_t gid) {
  int count = 64;
  std::vector<gid_t> groups(count);
  if (getgrouplist(user.c_str(), primary, groups.data(), &count) < 0) {
    groups.resize(count);
    if (getgrouplist(user.c_str(), primary, groups.data(), &count) < 0) {
      return false;
    }
  }
  for (int i = 0; i < count; ++i) {
    if (groups[i] == gid) return true;
  }
  return false;
}

}  // namespace

absl::optional<std::string> SocketPermissionProblem(const std::string& path) {
  struct stat info;
  std::string refused;  // the path that refused us
  bool is_dir = false;
  if (stat(path.c_str(), &info) != 0) {
    if (errno != EACCES) return absl::nullopt;
    refused = FirstUnsearchableDir(path);
    if (refused.empty()) return absl::nullopt;
    is_dir = true;
  } else {
    if (!S_ISSOCK(info.st_mode) || ConnectErrno(path) != EACCES) {
      return absl::nullopt;
    }
    refused = path;
  }
  struct stat owner;
  if (stat(refused.c_str(), &owner) != 0) return absl::nullopt;
  const mode_t group_bit = is_dir ? S_IXGRP : S_IWGRP;
  const std::string group = GroupName(owner.st_gid);
  const bool group_may =
      (owner.st_mode & group_bit) != 0 && owner.st_gid != 0 && !group.empty();

  const uid_t uid = geteuid();
  std::string user = UserName(uid);
  std::string text = absl::StrCat(
      "cloudlinkctl (", user.empty() ? "" : absl::StrCat("user ", user, ", "),
      "uid ", uid, ") may not connect to cloudlinkd's socket ", path,
      ": permission denied on ",
      is_dir ? absl::StrCat("its directory ", refused) : "the socket", ". ");
  if (!group_may) {
    absl::StrAppend(&text,
                    "Only root may connect; run cloudlinkctl as root (sudo).");
    return text;
  }
  absl::StrAppend(&text, "Only root and members of group ", group,
                  " may connect. ");
  if (!user.empty() && AccountHasGroup(user, getegid(), owner.st_gid)) {
    absl::StrAppend(&text, "User ", user, " is in group ", group,
                    " already, but this session started before that: log in "
                    "again (or run `newgrp ",
                    group, "`).");
  } else {
    absl::StrAppend(&text, "To join: `sudo usermod -aG ", group, " ",
                    user.empty() ? "USER" : user,
                    "`, then log in again; or run cloudlinkctl as root.");
  }
  return text;
}

}  // namespace cloudlink::client
