#pragma once

// One cloudlinkd per lib dir. Two daemons on one identity would take each
// other's MQTT session over and write the same spool, so a daemon holds an
// exclusive flock(2) on LIB_DIR/cloudlinkd.lock for its whole life and takes
// it before it creates or changes anything else. The lock file holds the
// holder's pid ("1234\n") for messages; the lock, not the pid, decides. The
// kernel drops the lock when the holder exits, however it exits, so a stale
// file never blocks a start.

#include <string>

#include "absl/status/statusor.h"

namespace cloudlink::state {

class InstanceLock {
 public:
  // The lock file's name inside the lib dir.
  static constexpr char kFileName[] = "cloudlinkd.lock";

  // Creates `lib_dir` (0755, with missing parents) when missing, then takes
  // the lock without waiting. Errors:
  //   FAILED_PRECONDITION INSTANCE_RUNNING: another process holds it; the
  //     message names that process's pid (from the file) and the lib dir;
  //   INSTANCE_LOCK_FAILED: the directory or the lock file cannot be made or
  //     opened (the message names the path and the system's error).
  // A refused attempt changes nothing: it only opens the existing file.
  static absl::StatusOr<InstanceLock> Acquire(const std::string& lib_dir);

  InstanceLock(InstanceLock&& other) noexcept;
  InstanceLock& operator=(InstanceLock&& other) noexcept;
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;
  // Releases the lock (the file stays, for the next holder).
  ~InstanceLock();

  const std::string& path() const { return path_; }

 private:
  InstanceLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  int fd_ = -1;
  std::string path_;
};

}  // namespace cloudlink::state
