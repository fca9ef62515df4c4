#include "server/publish/spool_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace cloudlink::publish {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  const int err = errno;
  return absl::Status(err == ENOENT ? absl::StatusCode::kNotFound
                                    : absl::StatusCode::kUnavailable,
                      absl::StrCat(what, " ", path, ": ", strerror(err)));
}

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status SyncDir(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", dir);
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) return Errno("cannot sync directory", dir);
  return absl::OkStatus();
}

class PosixSpoolFile : public SpoolFile {
 public:
  PosixSpoolFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixSpoolFile() override { close(fd_); }

  absl::Status Append(absl::string_view data) override {
    while (!data.empty()) {
      const ssize_t n =
          pwrite(fd_, data.data(), data.size(), static_cast<off_t>(size_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot write", path_);
      }
      size_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (fdatasync(fd_) != 0) return Errno("cannot sync", path_);
    return absl::OkStatus();
  }

  absl::Status ReadAt(uint64_t offset, size_t size, std::string* out) override {
    out->resize(size);
    size_t done = 0;
    while (done < size) {
      const ssize_t n = pread(fd_, &(*out)[done], size - done,
                              static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot read", path_);
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
    if (ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return Errno("cannot truncate", path_);
    }
    size_ = size;
    return Sync();
  }

  uint64_t size() const override { return size_; }

 private:
  const int fd_;
  const std::string path_;
  uint64_t size_;
};

}  // namespace

absl::Status PosixSpoolFileSystem::MakeDir(const std::string& path,
                                           mode_t mode) {
  std::string prefix;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    prefix = path.substr(0, i);
    if (mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) {
      return Errno("cannot create directory", prefix);
    }
  }
  if (chmod(path.c_str(), mode) != 0) return Errno("cannot chmod", path);
  return absl::OkStatus();
}

bool PosixSpoolFileSystem::Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

absl::StatusOr<std::vector<std::string>> PosixSpoolFileSystem::List(
    const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Errno("cannot list", dir);
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

absl::StatusOr<std::unique_ptr<SpoolFile>> PosixSpoolFileSystem::Open(
    const std::string& path, bool create) {
  const bool existed = access(path.c_str(), F_OK) == 0;
  const int fd =
      open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
  if (fd < 0) return Errno("cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    absl::Status status = Errno("cannot stat", path);
    close(fd);
    return status;
  }
  auto file = std::make_unique<PosixSpoolFile>(
      fd, path, static_cast<uint64_t>(st.st_size));
  if (!existed) {
    absl::Status synced = SyncDir(Parent(path));
    if (!synced.ok()) return synced;
  }
  return std::unique_ptr<SpoolFile>(std::move(file));
}

absl::Status PosixSpoolFileSystem::Remove(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Errno("cannot remove", path);
  }
  return absl::OkStatus();
}

SpoolFileSystem* DefaultSpoolFileSystem() {
  static PosixSpoolFileSystem* const fs = new PosixSpoolFileSystem();
  return fs;
}

}  // namespace cloudlink::publish
