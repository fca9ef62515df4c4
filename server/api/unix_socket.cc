#include "server/api/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/log.h"

namespace cloudlink::api {
namespace {

constexpr mode_t kSocketDirMode = 0750;

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Creates the socket's own directory `dir` (0750) when it is missing; its
// parent must exist: a mistyped --socket must not leave a tree of
// directories behind.
absl::Status MakeSocketDir(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return Error(absl::StatusCode::kFailedPrecondition,
                 reason::kSocketDirFailed,
                 absl::StrCat(dir, " exists and is not a directory"));
  }
  const std::string parent = ParentOf(dir);
  if (stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error(absl::StatusCode::kFailedPrecondition,
                 reason::kSocketDirFailed,
                 absl::StrCat("cannot create ", dir, ": its parent ", parent,
                              " is not a directory; cloudlinkd creates only "
                              "the socket's own directory. Create ",
                              parent, " or choose another --socket"));
  }
  if (mkdir(dir.c_str(), kSocketDirMode) != 0 && errno != EEXIST) {
    return Error(absl::StatusCode::kFailedPrecondition,
                 reason::kSocketDirFailed,
                 absl::StrCat("cannot create ", dir, ": ", strerror(errno),
                              "; create it or choose another --socket"));
  }
  chmod(dir.c_str(), kSocketDirMode);
  return absl::OkStatus();
}

// True when something accepts connections on the socket at `path`.
bool SocketIsLive(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.data(), path.size());
  bool live =
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return live;
}

}  // namespace

absl::Status PrepareSocketPath(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Error(
        absl::StatusCode::kInvalidArgument, reason::kSocketPathInvalid,
        absl::StrCat("--socket must be an absolute path, got '", path, "'"));
  }
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kSocketPathInvalid,
                 absl::StrCat("--socket path is ", path.size(),
                              " bytes; Unix socket paths must be shorter than ",
                              sizeof(sockaddr_un{}.sun_path), " bytes"));
  }
  absl::Status made = MakeSocketDir(ParentOf(path));
  if (!made.ok()) return made;
  struct stat st;

  if (lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (!S_ISSOCK(st.st_mode)) {
    return Error(absl::StatusCode::kFailedPrecondition,
                 reason::kSocketPathInvalid,
                 absl::StrCat(path,
                              " exists and is not a socket; remove it or "
                              "choose another --socket"));
  }
  if (SocketIsLive(path)) {
    return Error(absl::StatusCode::kFailedPrecondition, reason::kSocketInUse,
                 absl::StrCat("another cloudlinkd is serving on ", path,
                              "; stop it first or choose another --socket"));
  }
  LogInfo(absl::StrCat("API: removing stale socket ", path));
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error(absl::StatusCode::kFailedPrecondition,
                 reason::kSocketPathInvalid,
                 absl::StrCat("cannot remove stale socket ", path, ": ",
                              strerror(errno)));
  }
  return absl::OkStatus();
}

namespace {

constexpr mode_t kSocketMode = 0660;
constexpr mode_t kOwnDirMode = 0750;
constexpr int kBacklog = 64;

absl::Status ListenFailed(const std::string& path, absl::string_view what) {
  return Error(
      absl::StatusCode::kUnavailable, reason::kSocketListenFailed,
      absl::StrCat("cannot listen on ", path, ": ", what, ": ", strerror(errno),
                   "; check the directory's permissions"));
}

absl::Status ModeFailed(const std::string& path, absl::string_view what) {
  return Error(absl::StatusCode::kFailedPrecondition, reason::kSocketModeFailed,
               absl::StrCat(what, " ", path, ": ", strerror(errno)));
}

// Gives the socket's directory `group` when it is the daemon's own.
void ShareOwnDirectory(const std::string& dir, gid_t group) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || st.st_uid != geteuid() ||
      (st.st_mode & 07777) != kOwnDirMode || st.st_gid == group) {
    return;
  }
  if (chown(dir.c_str(), static_cast<uid_t>(-1), group) != 0) {
    LogWarning(absl::StrCat("API: cannot give ", dir, " group ", group, ": ",
                            strerror(errno)));
  }
}

// Adds `extra` to `path`'s POSIX access ACL with `extra_perm` (the owner,
// group and other entries keep `mode`'s bits; the mask is the group's), so
// that members of `extra` get in without the file's group. The format is the
// kernel's "system.posix_acl_access" (version 2, little-endian entries sorted
// by tag). False (errno set) when the file system refuses it.
bool AddGroupAcl(const std::string& path, mode_t mode, gid_t extra,
                 int extra_perm) {
  struct Entry {
    uint16_t tag;
    uint16_t perm;
    uint32_t id;
  };
  constexpr uint32_t kUndefined = 0xffffffff;
  const Entry entries[] = {
      {0x01, static_cast<uint16_t>((mode >> 6) & 7), kUndefined},  // owner
      {0x04, static_cast<uint16_t>((mode >> 3) & 7), kUndefined},  // group
      {0x08, static_cast<uint16_t>(extra_perm), extra},            // extra
      {0x10, static_cast<uint16_t>(((mode >> 3) & 7) | extra_perm),
       kUndefined},                                          // mask
      {0x20, static_cast<uint16_t>(mode & 7), kUndefined}};  // other
  std::string value;
  auto put = [&value](uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
      value.push_back(static_cast<char>(v >> (8 * i)));
  };
  put(2, 4);
  for (const Entry& e : entries) {
    put(e.tag, 2);
    put(e.perm, 2);
    put(e.id, 4);
  }
  return setxattr(path.c_str(), "system.posix_acl_access", value.data(),
                  value.size(), 0) == 0;
}

}  // namespace

absl::StatusOr<int> ListenOnUnixSocket(const std::string& path, gid_t group,
                                       absl::optional<gid_t> extra_group) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    errno = ENAMETOOLONG;
    return ListenFailed(path, "path");
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return ListenFailed(path, "socket");
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.data(), path.size());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    absl::Status failed = ListenFailed(path, "bind");
    close(fd);
    return failed;
  }
  // Not yet listening: nobody can connect before mode and group are set.
  absl::Status restricted;
  if (chmod(path.c_str(), kSocketMode) != 0) {
    restricted = ModeFailed(path, "chmod");
  } else if (chown(path.c_str(), static_cast<uid_t>(-1), group) != 0) {
    restricted = ModeFailed(path, absl::StrCat("chown to group ", group));
  }
  if (!restricted.ok()) {
    close(fd);
    unlink(path.c_str());
    return restricted;
  }
  ShareOwnDirectory(ParentOf(path), group);
  if (extra_group.has_value()) {
    // The publisher group reaches the socket without being its group.
    const std::string dir = ParentOf(path);
    struct stat st;
    const bool own_dir = stat(dir.c_str(), &st) == 0 &&
                         st.st_uid == geteuid() &&
                         (st.st_mode & 07777) == kOwnDirMode;
    if (!AddGroupAcl(path, kSocketMode, *extra_group, 6) ||
        (own_dir && !AddGroupAcl(dir, kOwnDirMode, *extra_group, 1))) {
      LogWarning(absl::StrCat(
          "API: cannot give group ", *extra_group, " access to ", path,
          " with an ACL (", strerror(errno),
          "); members of --publisher-group reach the socket only if they "
          "are also in its group"));
    }
  }
  if (listen(fd, kBacklog) != 0) {
    absl::Status failed = ListenFailed(path, "listen");
    close(fd);
    unlink(path.c_str());
    return failed;
  }
  return fd;
}

}  // namespace cloudlink::api
