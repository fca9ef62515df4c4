#pragma once

// The filesystem seam (as LevelDB's Env): everything cloudlink does to the
// files it keeps goes through FileSystem: the state directory's atomic
// writes, the publish spool's append-only segments, the dev cloud's state
// files. Tests inject a failure at any step of a write (PosixFileSystem's
// BeforeStep) and check what a crash there leaves behind, or put the files
// in memory (the spool fuzzer).
//
// No call follows a symbolic link at the path it is given (O_NOFOLLOW): a
// link where a state file should be is an error (its message says so), and
// nothing is read, written, truncated or chmod-ed through it. Directories
// above the path are followed; the daemon checks them at start
// (dir_safety.h).
//
// Errors carry no reason of their own (callers wrap them in theirs); their
// code says what went wrong: NOT_FOUND (ENOENT), PERMISSION_DENIED (EACCES,
// EPERM, EROFS), RESOURCE_EXHAUSTED (ENOSPC, EDQUOT), FAILED_PRECONDITION (a
// symbolic link or something else than a regular file where one is
// expected), INTERNAL (any other error); the message names the operation,
// the path and the system's text.
//
// Thread-safety: implementations are thread-safe, except that two writers of
// the same path (WriteFileAtomic, or one AppendableFile used from two
// threads) must not overlap.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cloudlink::state {

// One open file that grows by appends and is read at offsets (the spool's
// segments). ReadAt may run on one thread while another appends, for bytes
// appended before.
class AppendableFile {
 public:
  virtual ~AppendableFile() = default;

  // Appends `data` at the end: all of it, or an error (after which the file
  // may hold part of it; Truncate cuts it off).
  virtual absl::Status Append(absl::string_view data) = 0;

  // fdatasync: everything appended is durable when it returns OK.
  virtual absl::Status Sync() = 0;

  // Reads exactly `size` bytes at `offset` into `out`; OUT_OF_RANGE when the
  // file is shorter.
  virtual absl::Status ReadAt(uint64_t offset, size_t size,
                              std::string* out) = 0;

  // Cuts the file to `size` bytes and syncs it.
  virtual absl::Status Truncate(uint64_t size) = 0;

  // Current size in bytes (what was appended, less what was cut).
  virtual uint64_t size() const = 0;
};

// Who owns a file and its permission bits.
struct FileOwnership {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;  // permission bits only (07777)
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Owner, group and permission bits of the regular file `path`. NOT_FOUND
  // when it does not exist; FAILED_PRECONDITION for a link or anything but a
  // regular file. This default (for filesystems without owners) is
  // UNIMPLEMENTED.
  virtual absl::StatusOr<FileOwnership> Ownership(const std::string& path);

  // WriteFileAtomic, with the new file given `ownership`'s owner, group and
  // mode before it replaces `path` (so a rewrite keeps a file's owner, group
  // and mode). This default (for filesystems without owners) applies only
  // the mode.
  virtual absl::Status WriteFileAtomicWithOwnership(
      const std::string& path, absl::string_view content,
      const FileOwnership& ownership);

  // Whole contents of the regular file `path` (at most 64 MiB;
  // RESOURCE_EXHAUSTED beyond; FAILED_PRECONDITION for anything but a
  // regular file).
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path) = 0;

  // Replaces `path` with `content` atomically: writes `path`.tmp with `mode`
  // (exactly, whatever the umask), fsyncs it, renames it over `path`, fsyncs
  // the directory. A crash at any point leaves the old file or the new one
  // (and perhaps `path`.tmp, which the next write replaces).
  virtual absl::Status WriteFileAtomic(const std::string& path,
                                       absl::string_view content,
                                       mode_t mode) = 0;

  // Creates `path` and missing parents, giving `mode` (exactly) to the ones
  // it creates and fsyncing their parents; an existing directory is left as
  // it is. FAILED_PRECONDITION when `path` exists and is not a directory.
  virtual absl::Status MakeDirs(const std::string& path, mode_t mode) = 0;

  // Sets the permission bits of `path` to `mode`; an error for a symbolic
  // link (its target is left alone).
  virtual absl::Status SetMode(const std::string& path, mode_t mode) = 0;

  // Removes a file; OK when it does not exist.
  virtual absl::Status RemoveFile(const std::string& path) = 0;

  // Removes a directory and everything below it, durably (the parent is
  // fsynced); OK when it does not exist.
  virtual absl::Status RemoveTree(const std::string& path) = 0;

  // Renames `from` to `to` (replacing `to` when it is a file) and fsyncs the
  // parent directory.
  virtual absl::Status Rename(const std::string& from,
                              const std::string& to) = 0;

  // True when something (a file, a directory, a dangling link) is at `path`.
  virtual bool Exists(const std::string& path) = 0;

  // Names (not paths) of the regular files in `dir` (and of links to
  // regular files, which the other calls then refuse), sorted; NOT_FOUND
  // when `dir` does not exist.
  virtual absl::StatusOr<std::vector<std::string>> ListFiles(
      const std::string& dir) = 0;

  // Opens the regular file `path` for reading and appending. A missing file
  // is created (mode 0600, its directory entry fsynced before this returns)
  // when `create` is set, NOT_FOUND otherwise. FAILED_PRECONDITION for
  // anything but a regular file.
  virtual absl::StatusOr<std::unique_ptr<AppendableFile>> OpenAppendable(
      const std::string& path, bool create) = 0;
};

// The real filesystem (POSIX calls).
class PosixFileSystem : public FileSystem {
 public:
  absl::StatusOr<std::string> ReadFile(const std::string& path) override;
  absl::Status WriteFileAtomic(const std::string& path,
                               absl::string_view content, mode_t mode) override;
  absl::StatusOr<FileOwnership> Ownership(const std::string& path) override;
  absl::Status WriteFileAtomicWithOwnership(
      const std::string& path, absl::string_view content,
      const FileOwnership& ownership) override;
  absl::Status MakeDirs(const std::string& path, mode_t mode) override;
  absl::Status SetMode(const std::string& path, mode_t mode) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status RemoveTree(const std::string& path) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  bool Exists(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListFiles(
      const std::string& dir) override;
  // The file refers back to this filesystem (for BeforeStep), which must
  // outlive it.
  absl::StatusOr<std::unique_ptr<AppendableFile>> OpenAppendable(
      const std::string& path, bool create) override;

 protected:
  // The steps of the writes, in order: WriteFileAtomic's five, then those
  // of an AppendableFile (Append, Sync, Truncate).
  enum class WriteStep {
    kOpenTemp,
    kWrite,
    kSync,
    kRename,
    kSyncDir,
    kAppend,
    kAppendSync,
    kTruncate,
  };
  // Called before each step with the path written (for WriteFileAtomic the
  // target, not the temporary file); a non-OK status aborts the write there
  // with that status, as a crash or a failing disk would (what the steps
  // before it did stays done: WriteFileAtomic leaves the temporary file
  // behind). May be called from several threads at once.
  virtual absl::Status BeforeStep(WriteStep step, const std::string& path) {
    return absl::OkStatus();
  }

 private:
  class PosixAppendableFile;
  // WriteFileAtomic; `owner`, when given, is applied to the temporary file.
  absl::Status WriteAtomic(const std::string& path, absl::string_view content,
                           mode_t mode, const FileOwnership* owner);
};

// A process-wide PosixFileSystem.
FileSystem* DefaultFileSystem();

// The directory part of `path` ("." when it has none).
std::string DirName(const std::string& path);

}  // namespace cloudlink::state
