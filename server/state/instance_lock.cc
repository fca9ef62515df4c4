#include "server/state/instance_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"

namespace cloudlink::state {
namespace {

constexpr mode_t kLibDirMode = 0755;
constexpr mode_t kLockFileMode = 0644;

absl::Status LockFailed(absl::string_view what, const std::string& path,
                        int err) {
  return Error(absl::StatusCode::kFailedPrecondition,
               reason::kInstanceLockFailed,
               absl::StrCat("cannot ", what, " ", path, ": ", strerror(err),
                            "; check that --lib-dir is a directory this user "
                            "may write"));
}

// mkdir -p, leaving existing directories as they are.
absl::Status MakeDirs(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return LockFailed("use the lib dir", dir, ENOTDIR);
  }
  const size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    absl::Status parent = MakeDirs(dir.substr(0, slash));
    if (!parent.ok()) return parent;
  }
  if (mkdir(dir.c_str(), kLibDirMode) != 0 && errno != EEXIST) {
    return LockFailed("create the lib dir", dir, errno);
  }
  return absl::OkStatus();
}

// The pid the holder wrote, or "unknown" (it may not have written it yet).
std::string HolderPid(int fd) {
  char buffer[32] = {0};
  const ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
  int pid = 0;
  if (n <= 0 ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(
                            absl::string_view(buffer, static_cast<size_t>(n))),
                        &pid) ||
      pid <= 0) {
    return "unknown";
  }
  return absl::StrCat(pid);
}

}  // namespace

absl::StatusOr<InstanceLock> InstanceLock::Acquire(const std::string& lib_dir) {
  std::string dir = lib_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  absl::Status made = MakeDirs(dir);
  if (!made.ok()) return made;
  std::string path = absl::StrCat(dir, "/", kFileName);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                      kLockFileMode);
  if (fd < 0) return LockFailed("open the lock file", path, errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) {
      close(fd);
      return LockFailed("lock", path, err);
    }
    const std::string pid = HolderPid(fd);
    close(fd);
    return Error(absl::StatusCode::kFailedPrecondition,
                 reason::kInstanceRunning,
                 absl::StrCat("another cloudlinkd (pid ", pid,
                              ") is running on the lib dir ", dir, " (", path,
                              " is locked); stop it first, or give this one "
                              "its own --lib-dir"));
  }
  // Ours now: record our pid for the next one's message.
  const std::string pid = absl::StrCat(getpid(), "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) !=
                                   static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    close(fd);
    return LockFailed("write the pid to", path, err);
  }
  return InstanceLock(fd, std::move(path));
}

InstanceLock::InstanceLock(InstanceLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

InstanceLock& InstanceLock::operator=(InstanceLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace cloudlink::state
