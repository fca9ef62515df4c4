#include "server/config/config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"

namespace cloudlink::config {
namespace {

absl::Status Unreadable(const std::string& path, absl::string_view why) {
  return Error(absl::StatusCode::kFailedPrecondition, reason::kConfigUnreadable,
               absl::StrCat("cannot read ", path, ": ", why,
                            "; make it a regular file readable by the "
                            "cloudlinkd user"));
}

std::string ErrnoText(int err) {
  char buffer[128];
  // GNU strerror_r returns the message, which may not be in `buffer`.
  return strerror_r(err, buffer, sizeof(buffer));
}

}  // namespace

absl::StatusOr<absl::optional<std::string>> ReadConfigFile(
    const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return absl::optional<std::string>();
    return Unreadable(path, ErrnoText(err));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return Unreadable(path, ErrnoText(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return Unreadable(path, "it is not a regular file");
  }
  std::string content;
  char buffer[8192];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return Unreadable(path, ErrnoText(err));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > max_bytes) {
      close(fd);
      return Unreadable(
          path, absl::StrCat("it is larger than ", max_bytes, " bytes"));
    }
  }
  close(fd);
  return absl::optional<std::string>(std::move(content));
}

}  // namespace cloudlink::config
