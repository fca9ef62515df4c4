#pragma once

// The filesystem seam of the spool (as LevelDB's Env): every disk operation
// of the spool goes through SpoolFileSystem, so tests can fail a write or an
// fsync, or corrupt a segment, and check what the spool does about it.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cloudlink::publish {

// One open segment file. Not thread-safe, except that ReadAt may run
// concurrently with Append/Sync on another thread for bytes already synced.
class SpoolFile {
 public:
  virtual ~SpoolFile() = default;
  // Appends `data` at the end (all of it, or an error).
  virtual absl::Status Append(absl::string_view data) = 0;
  // fsync: appended data is durable when it returns OK.
  virtual absl::Status Sync() = 0;
  // Reads exactly `size` bytes at `offset` into `out` (OUT_OF_RANGE when
  // the file is shorter).
  virtual absl::Status ReadAt(uint64_t offset, size_t size,
                              std::string* out) = 0;
  // Cuts the file to `size` bytes and syncs it.
  virtual absl::Status Truncate(uint64_t size) = 0;
  // Current size in bytes.
  virtual uint64_t size() const = 0;
};

class SpoolFileSystem {
 public:
  virtual ~SpoolFileSystem() = default;
  // Creates `path` (and missing parents, all with `mode`); when it exists,
  // sets its mode to `mode`.
  virtual absl::Status MakeDir(const std::string& path, mode_t mode) = 0;
  // True when `path` exists.
  virtual bool Exists(const std::string& path) = 0;
  // Names (not paths) of the regular files in `dir`, sorted.
  virtual absl::StatusOr<std::vector<std::string>> List(
      const std::string& dir) = 0;
  // Opens `path` for reading and appending, creating it (mode 0600) when
  // `create` is set; NOT_FOUND otherwise when missing. A new file's
  // directory entry is synced before this returns.
  virtual absl::StatusOr<std::unique_ptr<SpoolFile>> Open(
      const std::string& path, bool create) = 0;
  // Removes a file; OK when it does not exist.
  virtual absl::Status Remove(const std::string& path) = 0;
};

// The real filesystem (POSIX calls). Thread-safe.
class PosixSpoolFileSystem : public SpoolFileSystem {
 public:
  absl::Status MakeDir(const std::string& path, mode_t mode) override;
  bool Exists(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> List(
      const std::string& dir) override;
  absl::StatusOr<std::unique_ptr<SpoolFile>> Open(const std::string& path,
                                                  bool create) override;
  absl::Status Remove(const std::string& path) override;
};

// A process-wide PosixSpoolFileSystem (stateless).
SpoolFileSystem* DefaultSpoolFileSystem();

}  // namespace cloudlink::publish
