#pragma once

// The filesystem seam of the state store (as LevelDB's Env): everything the
// state directory does to disk goes through FileSystem, so tests can inject a
// failure at any step of a write and check what a crash there leaves behind.

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cloudlink::state {

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Whole contents of `path`. NOT_FOUND when it does not exist.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path) = 0;

  // Replaces `path` with `content` atomically: writes `path`.tmp with `mode`
  // (exactly, whatever the umask), fsyncs it, renames it over `path`, fsyncs
  // the directory. A crash at any point leaves the old file or the new one.
  virtual absl::Status WriteFileAtomic(const std::string& path,
                                       absl::string_view content,
                                       mode_t mode) = 0;

  // Creates `path` and missing parents; sets `mode` on the ones it creates.
  virtual absl::Status MakeDirs(const std::string& path, mode_t mode) = 0;

  // Removes a file; OK when it does not exist.
  virtual absl::Status RemoveFile(const std::string& path) = 0;

  // Removes a directory and everything below it, durably (the parent is
  // fsynced); OK when it does not exist.
  virtual absl::Status RemoveTree(const std::string& path) = 0;

  // Renames `from` to `to` (replacing `to` when it is a file) and fsyncs the
  // parent directory.
  virtual absl::Status Rename(const std::string& from,
                              const std::string& to) = 0;

  virtual bool Exists(const std::string& path) = 0;
};

// The real filesystem (POSIX calls).
class PosixFileSystem : public FileSystem {
 public:
  absl::StatusOr<std::string> ReadFile(const std::string& path) override;
  absl::Status WriteFileAtomic(const std::string& path,
                               absl::string_view content, mode_t mode) override;
  absl::Status MakeDirs(const std::string& path, mode_t mode) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status RemoveTree(const std::string& path) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  bool Exists(const std::string& path) override;

 protected:
  // The steps of WriteFileAtomic, in order; a test subclass fails one.
  enum class WriteStep { kOpenTemp, kWrite, kSync, kRename, kSyncDir };
  // Called before each step; a non-OK status aborts the write there, as a
  // crash would (the temporary file is left behind, as after a crash).
  virtual absl::Status BeforeStep(WriteStep step, const std::string& path) {
    return absl::OkStatus();
  }
};

// The directory part of `path` ("." when it has none).
std::string DirName(const std::string& path);

}  // namespace cloudlink::state
