#include "server/state/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"

namespace cloudlink::state {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  int err = errno;
  std::string message = absl::StrCat(what, " ", path, ": ", strerror(err));
  if (err == ELOOP) {
    message = absl::StrCat(what, " ", path,
                           ": it is a symbolic link, and cloudlinkd does not "
                           "follow links to its state files (remove it)");
  }
  switch (err) {
    case ELOOP:
      return absl::FailedPreconditionError(message);
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

// Every write step asks the owning filesystem first (BeforeStep).
class PosixFileSystem::PosixAppendableFile : public AppendableFile {
 public:
  PosixAppendableFile(PosixFileSystem* fs, int fd, std::string path,
                      uint64_t size)
      : fs_(fs), fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixAppendableFile() override { close(fd_); }

  absl::Status Append(absl::string_view data) override {
    RETURN_IF_ERROR(fs_->BeforeStep(WriteStep::kAppend, path_));
    while (!data.empty()) {
      const ssize_t n =
          pwrite(fd_, data.data(), data.size(), static_cast<off_t>(size_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("write", path_);
      }
      size_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    RETURN_IF_ERROR(fs_->BeforeStep(WriteStep::kAppendSync, path_));
    return SyncData();
  }

  absl::Status ReadAt(uint64_t offset, size_t size, std::string* out) override {
    out->resize(size);
    size_t done = 0;
    while (done < size) {
      const ssize_t n = pread(fd_, &(*out)[done], size - done,
                              static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("read", path_);
      }
      if (n == 0) {
        return absl::OutOfRangeError(
            absl::StrCat(path_, " ends before offset ", offset + size));
      }
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size) override {
    RETURN_IF_ERROR(fs_->BeforeStep(WriteStep::kTruncate, path_));
    if (ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return Errno("truncate", path_);
    }
    size_ = size;
    return SyncData();
  }

  uint64_t size() const override { return size_; }

 private:
  absl::Status SyncData() {
    if (fdatasync(fd_) != 0) return Errno("fsync", path_);
    return absl::OkStatus();
  }

  PosixFileSystem* const fs_;
  const int fd_;
  const std::string path_;
  uint64_t size_;
};

FileSystem* DefaultFileSystem() {
  static PosixFileSystem* const fs = new PosixFileSystem();
  return fs;
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::StatusOr<std::string> PosixFileSystem::ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return Errno("open", path);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a regular file"));
  }
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

absl::StatusOr<FileOwnership> FileSystem::Ownership(const std::string& path) {
  return absl::UnimplementedError(
      absl::StrCat("no file owners here (", path, ")"));
}

absl::Status FileSystem::WriteFileAtomicWithOwnership(
    const std::string& path, absl::string_view content,
    const FileOwnership& ownership) {
  return WriteFileAtomic(path, content, ownership.mode);
}

absl::StatusOr<FileOwnership> PosixFileSystem::Ownership(
    const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return Errno("stat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, S_ISLNK(st.st_mode) ? " is a symbolic link" : " is not a file",
        "; cloudlinkd does not write through it"));
  }
  return FileOwnership{st.st_uid, st.st_gid, st.st_mode & 07777};
}

absl::Status PosixFileSystem::WriteFileAtomic(const std::string& path,
                                              absl::string_view content,
                                              mode_t mode) {
  return WriteAtomic(path, content, mode, nullptr);
}

absl::Status PosixFileSystem::WriteFileAtomicWithOwnership(
    const std::string& path, absl::string_view content,
    const FileOwnership& ownership) {
  return WriteAtomic(path, content, ownership.mode, &ownership);
}

absl::Status PosixFileSystem::WriteAtomic(const std::string& path,
                                          absl::string_view content,
                                          mode_t mode,
                                          const FileOwnership* owner) {
  const std::string tmp = path + ".tmp";
  RETURN_IF_ERROR(BeforeStep(WriteStep::kOpenTemp, path));
  unlink(tmp.c_str());
  int fd = open(tmp.c_str(),
                O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                mode);
  if (fd < 0) return Errno("create", tmp);
  // Owner first: a chown may clear set-id bits that the chmod then sets.
  if (owner != nullptr && fchown(fd, owner->uid, owner->gid) != 0) {
    absl::Status s = Errno("chown", tmp);
    close(fd);
    unlink(tmp.c_str());
    return s;
  }
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
  RETURN_IF_ERROR(SetMode(path, mode));
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

absl::Status PosixFileSystem::SetMode(const std::string& path, mode_t mode) {
  // The entry itself, never a link's target: chmod through the descriptor
  // of what `path` names (O_PATH needs no permission on the file).
  const int fd = open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Errno("chmod", path);
  struct stat st;
  absl::Status status;
  if (fstat(fd, &st) != 0) {
    status = Errno("chmod", path);
  } else if (S_ISLNK(st.st_mode)) {
    errno = ELOOP;
    status = Errno("chmod", path);
  } else if (chmod(absl::StrCat("/proc/self/fd/", fd).c_str(), mode) != 0) {
    status = Errno("chmod", path);
  }
  close(fd);
  return status;
}

absl::StatusOr<std::vector<std::string>> PosixFileSystem::ListFiles(
    const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Errno("list", dir);
  std::vector<std::string> names;
  while (struct dirent* entry = readdir(d)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (stat(absl::StrCat(dir, "/", name).c_str(), &st) == 0 &&
        S_ISREG(st.st_mode)) {
      names.push_back(name);
    }
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::unique_ptr<AppendableFile>> PosixFileSystem::OpenAppendable(
    const std::string& path, bool create) {
  struct stat st;
  const bool existed = lstat(path.c_str(), &st) == 0;
  const int fd = open(
      path.c_str(),
      O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (create ? O_CREAT : 0),
      0600);
  if (fd < 0) return Errno("open", path);
  if (fstat(fd, &st) != 0) {
    absl::Status status = Errno("stat", path);
    close(fd);
    return status;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path,
                     " is not a regular file; cloudlinkd leaves it "
                     "alone (remove it)"));
  }
  auto file = std::make_unique<PosixAppendableFile>(
      this, fd, path, static_cast<uint64_t>(st.st_size));
  if (!existed) RETURN_IF_ERROR(SyncDir(DirName(path)));
  return std::unique_ptr<AppendableFile>(std::move(file));
}

}  // namespace cloudlink::state
