#include "server/api/unix_socket_listener.h"

#include <fcntl.h>
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

absl::StatusOr<std::unique_ptr<UnixSocketListener>> UnixSocketListener::Start(
    const std::string& path, gid_t group, UnixPeerRegistry* peers,
    ConnectionSink* sink, UnixSocketLimits limits) {
  absl::StatusOr<int> listening =
      ListenOnUnixSocket(path, group, limits.extra_group);
  if (!listening.ok()) return listening.status();
  const int fd = *listening;
  int wake[2];
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    absl::Status failed =
        Error(absl::StatusCode::kUnavailable, reason::kSocketListenFailed,
              absl::StrCat("cannot serve ", path, ": pipe: ", strerror(errno)));
    close(fd);
    unlink(path.c_str());
    return failed;
  }
  std::unique_ptr<UnixSocketListener> listener(
      new UnixSocketListener(fd, wake[0], wake[1], peers, sink, limits));
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
    if (absl::Status adopted = sink_->Adopt(fd); !adopted.ok()) {
      refused_.Log(
          LogLevel::kWarning,
          absl::StrCat("API: dropped a connection: ", adopted.message()));
    }
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
