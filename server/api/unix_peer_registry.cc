#include "server/api/unix_peer_registry.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace cloudlink::api {

std::string UnixPeerRegistry::PeerName(int fd) {
  return absl::StrCat("fd:", fd);
}

bool UnixPeerRegistry::CurrentSocket(int fd, SocketId* id) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  id->device = st.st_dev;
  id->inode = st.st_ino;
  return true;
}

absl::Status UnixPeerRegistry::Register(int fd, UnixCredentials credentials) {
  Entry entry;
  if (!CurrentSocket(fd, &entry.socket)) {
    return absl::InternalError(
        absl::StrCat("descriptor ", fd, " is not an open socket"));
  }
  entry.credentials = std::move(credentials);
  MutexLock lock(&mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    SocketId now;
    if (it->first != fd &&
        (!CurrentSocket(it->first, &now) || !(now == it->second.socket))) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  entries_[fd] = std::move(entry);
  return absl::OkStatus();
}

absl::StatusOr<UnixCredentials> UnixPeerRegistry::Lookup(
    absl::string_view peer) const {
  int fd = -1;
  if (!absl::ConsumePrefix(&peer, "fd:") || !absl::SimpleAtoi(peer, &fd) ||
      fd < 0) {
    return absl::NotFoundError("not a Unix socket connection");
  }
  MutexLock lock(&mu_);
  auto it = entries_.find(fd);
  if (it == entries_.end()) {
    return absl::NotFoundError("connection not registered");
  }
  SocketId now;
  if (!CurrentSocket(fd, &now) || !(now == it->second.socket)) {
    return absl::NotFoundError("connection ended");
  }
  return it->second.credentials;
}

size_t UnixPeerRegistry::size() const {
  MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace cloudlink::api
