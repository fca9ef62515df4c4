#include "server/api/unix_socket_listener.h"

#include <fcntl.h>
#include <grpcpp/server_posix.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/thread_start.h"

namespace cloudlink::api {
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

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
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

absl::StatusOr<std::unique_ptr<UnixSocketListener>> UnixSocketListener::Start(
    const std::string& path, gid_t group, UnixPeerRegistry* peers,
    grpc::Server* server, UnixSocketLimits limits) {
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
  if (limits.extra_group.has_value()) {
    // The publisher group reaches the socket without being its group.
    const std::string dir = ParentOf(path);
    struct stat st;
    const bool own_dir = stat(dir.c_str(), &st) == 0 &&
                         st.st_uid == geteuid() &&
                         (st.st_mode & 07777) == kOwnDirMode;
    if (!AddGroupAcl(path, kSocketMode, *limits.extra_group, 6) ||
        (own_dir && !AddGroupAcl(dir, kOwnDirMode, *limits.extra_group, 1))) {
      LogWarning(absl::StrCat(
          "API: cannot give group ", *limits.extra_group, " access to ", path,
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
  int wake[2];
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    absl::Status failed = ListenFailed(path, "pipe");
    close(fd);
    unlink(path.c_str());
    return failed;
  }
  std::unique_ptr<UnixSocketListener> listener(
      new UnixSocketListener(fd, wake[0], wake[1], peers, server, limits));
  absl::StatusOr<std::thread> thread =
      StartThread([l = listener.get()] { l->AcceptLoop(); });
  if (!thread.ok()) {
    listener->stopped_ = true;
    close(fd);
    close(wake[0]);
    close(wake[1]);
    unlink(path.c_str());
    return Error(
        absl::StatusCode::kUnavailable, reason::kSocketListenFailed,
        absl::StrCat("cannot serve ", path, ": ", thread.status().message()));
  }
  listener->accept_thread_ = *std::move(thread);
  return listener;
}

std::string UnixSocketListener::OverLimit(const UnixCredentials& caller) const {
  if (caller.uid == 0) return "";
  const int mine = peers_->CountUnix(caller.uid);
  if (mine >= limits_.max_per_uid) {
    return absl::StrCat("uid ", caller.uid, " has ", mine,
                        " connections open (--socket-max-connections-per-uid)");
  }
  const int all = peers_->CountUnixNotRoot();
  if (all >= limits_.max_not_root) {
    return absl::StrCat(all,
                        " connections of uids but root are open "
                        "(--socket-max-connections)");
  }
  return "";
}

void UnixSocketListener::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      LogError(
          absl::StrCat("API: poll on the socket failed: ", strerror(errno)));
      return;
    }
    if (fds[1].revents != 0) return;  // Stop()
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
          errno != ECONNABORTED) {
        accept_errors_.Log(
            LogLevel::kWarning,
            absl::StrCat("API: accept failed: ", strerror(errno)));
        // Out of descriptors or memory: give the daemon a moment rather
        // than spinning on the same error.
        poll(&fds[1], 1, 100);
      }
      continue;
    }
    absl::StatusOr<UnixCredentials> credentials = ReadPeerCredentials(fd);
    if (!credentials.ok()) {
      refused_.Log(LogLevel::kWarning,
                   absl::StrCat("API: dropped a connection: ",
                                credentials.status().message()));
      close(fd);
      continue;
    }
    if (std::string over = OverLimit(*credentials); !over.empty()) {
      refused_.Log(
          LogLevel::kWarning,
          absl::StrCat("API: refused a connection of uid ", credentials->uid,
                       " pid ", credentials->pid, ": ", over));
      close(fd);
      continue;
    }
    fd = peers_->MoveToRotatingNumber(fd);
    absl::Status registered = peers_->Register(fd, *std::move(credentials));
    if (!registered.ok()) {
      refused_.Log(
          LogLevel::kWarning,
          absl::StrCat("API: dropped a connection: ", registered.message()));
      close(fd);
      continue;
    }
    grpc::AddInsecureChannelFromFd(server_, fd);  // gRPC owns fd now
  }
}

void UnixSocketListener::Stop() {
  if (stopped_) return;
  stopped_ = true;
  char byte = 1;
  while (write(wake_write_, &byte, 1) < 0 && errno == EINTR) {
  }
  accept_thread_.join();
  close(listen_fd_);
  close(wake_read_);
  close(wake_write_);
}

UnixSocketListener::~UnixSocketListener() { Stop(); }

}  // namespace cloudlink::api
