#include "server/api/unix_peer_registry.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace cloudlink::api {
namespace {

constexpr int kFirstNumber = 64;
constexpr int kNumbers = 4096;

}  // namespace

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
  entry.credentials = std::move(credentials);
  return Add(fd, std::move(entry));
}

absl::Status UnixPeerRegistry::Register(int fd, TlsPeer peer) {
  Entry entry;
  entry.tls = std::move(peer);
  return Add(fd, std::move(entry));
}

absl::Status UnixPeerRegistry::Add(int fd, Entry entry) {
  if (!CurrentSocket(fd, &entry.socket)) {
    return absl::InternalError(
        absl::StrCat("descriptor ", fd, " is not an open socket"));
  }
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

absl::StatusOr<UnixPeerRegistry::Entry> UnixPeerRegistry::Find(
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
  return it->second;
}

absl::StatusOr<UnixCredentials> UnixPeerRegistry::Lookup(
    absl::string_view peer) const {
  absl::StatusOr<Entry> entry = Find(peer);
  if (!entry.ok()) return entry.status();
  if (!entry->credentials.has_value()) {
    return absl::NotFoundError("a remote listener connection");
  }
  return *entry->credentials;
}

absl::StatusOr<TlsPeer> UnixPeerRegistry::LookupTls(
    absl::string_view peer) const {
  absl::StatusOr<Entry> entry = Find(peer);
  if (!entry.ok()) return entry.status();
  if (entry->credentials.has_value()) {
    return absl::NotFoundError("a Unix socket connection");
  }
  return entry->tls;
}

bool UnixPeerRegistry::IsTls(absl::string_view peer) const {
  int fd = -1;
  if (!absl::ConsumePrefix(&peer, "fd:") || !absl::SimpleAtoi(peer, &fd)) {
    return false;
  }
  MutexLock lock(&mu_);
  auto it = entries_.find(fd);
  return it != entries_.end() && !it->second.credentials.has_value();
}

int UnixPeerRegistry::CountUnix(uid_t uid) const {
  MutexLock lock(&mu_);
  int count = 0;
  for (const auto& [fd, entry] : entries_) {
    SocketId now;
    if (entry.credentials.has_value() && entry.credentials->uid == uid &&
        CurrentSocket(fd, &now) && now == entry.socket) {
      ++count;
    }
  }
  return count;
}

int UnixPeerRegistry::CountUnixNotRoot() const {
  MutexLock lock(&mu_);
  int count = 0;
  for (const auto& [fd, entry] : entries_) {
    SocketId now;
    if (entry.credentials.has_value() && entry.credentials->uid != 0 &&
        CurrentSocket(fd, &now) && now == entry.socket) {
      ++count;
    }
  }
  return count;
}

int UnixPeerRegistry::CountOpen() const {
  MutexLock lock(&mu_);
  int count = 0;
  for (const auto& [fd, entry] : entries_) {
    SocketId now;
    if (CurrentSocket(fd, &now) && now == entry.socket) ++count;
  }
  return count;
}

int UnixPeerRegistry::MoveToRotatingNumber(int fd) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  const int end = static_cast<int>(std::min<rlim_t>(
      limit.rlim_cur, static_cast<rlim_t>(kFirstNumber + kNumbers)));
  if (end <= kFirstNumber) return fd;
  MutexLock lock(&mu_);
  if (next_number_ < kFirstNumber || next_number_ >= end) {
    next_number_ = kFirstNumber;
  }
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, next_number_);
  if (moved < 0 && next_number_ != kFirstNumber) {
    next_number_ = kFirstNumber;  // the top of the range is full: wrap
    moved = fcntl(fd, F_DUPFD_CLOEXEC, next_number_);
  }
  if (moved < 0) return fd;
  close(fd);
  next_number_ = moved + 1;
  return moved;
}

size_t UnixPeerRegistry::size() const {
  MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace cloudlink::api
