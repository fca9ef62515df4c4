#include "server/api/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

}  // namespace cloudlink::api
