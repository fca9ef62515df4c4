#include "server/state/file_system.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"

namespace cloudlink::state {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  int err = errno;
  std::string message = absl::StrCat(what, " ", path, ": ", strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open directory", dir);
  int rc = fsync(fd);
  absl::Status status = rc == 0 ? absl::OkStatus() : Errno("fsync", dir);
  close(fd);
  return status;
}

}  // namespace

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::StatusOr<std::string> PosixFileSystem::ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  std::string content;
  char buf[8192];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = Errno("read", path);
      close(fd);
      return s;
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > (64u << 20)) {
      close(fd);
      return absl::ResourceExhaustedError(
          absl::StrCat(path, " is larger than 64 MiB"));
    }
  }
  close(fd);
  return content;
}

absl::Status PosixFileSystem::WriteFileAtomic(const std::string& path,
                                              absl::string_view content,
                                              mode_t mode) {
  const std::string tmp = path + ".tmp";
  RETURN_IF_ERROR(BeforeStep(WriteStep::kOpenTemp, path));
  unlink(tmp.c_str());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC,
                mode);
  if (fd < 0) return Errno("create", tmp);
  // The mode must not depend on the daemon's umask.
  if (fchmod(fd, mode) != 0) {
    absl::Status s = Errno("chmod", tmp);
    close(fd);
    return s;
  }
  absl::Status status = BeforeStep(WriteStep::kWrite, path);
  size_t done = 0;
  while (status.ok() && done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      status = Errno("write", tmp);
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (status.ok()) status = BeforeStep(WriteStep::kSync, path);
  if (status.ok() && fsync(fd) != 0) status = Errno("fsync", tmp);
  close(fd);
  if (!status.ok()) {
    return status;
  }
  RETURN_IF_ERROR(BeforeStep(WriteStep::kRename, path));
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno("rename", tmp);
    unlink(tmp.c_str());
    return s;
  }
  RETURN_IF_ERROR(BeforeStep(WriteStep::kSyncDir, path));
  return SyncDir(DirName(path));
}

absl::Status PosixFileSystem::MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return absl::InvalidArgumentError("empty directory path");
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a directory"));
  }
  std::string parent = DirName(path);
  if (parent != path && parent != "." && parent != "/") {
    RETURN_IF_ERROR(MakeDirs(parent, mode));
  }
  if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return Errno("mkdir", path);
  }
  if (chmod(path.c_str(), mode) != 0) return Errno("chmod", path);
  return SyncDir(parent);
}

absl::Status PosixFileSystem::RemoveFile(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Errno("remove", path);
  }
  return absl::OkStatus();
}

absl::Status PosixFileSystem::RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("remove ", path, ": ", ec.message()));
  }
  return SyncDir(DirName(path));
}

absl::Status PosixFileSystem::Rename(const std::string& from,
                                     const std::string& to) {
  if (rename(from.c_str(), to.c_str()) != 0) return Errno("rename", from);
  return SyncDir(DirName(to));
}

bool PosixFileSystem::Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

}  // namespace cloudlink::state
