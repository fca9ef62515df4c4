#include "server/state/dir_safety.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/error.h"

namespace cloudlink::state {
namespace {

absl::Status Unsafe(const std::string& path, absl::string_view problem,
                    absl::string_view fix) {
  return Error(absl::StatusCode::kFailedPrecondition, reason::kStateDirUnsafe,
               absl::StrCat(path, " ", problem,
                            ", so another user could change what cloudlinkd "
                            "trusts; fix: ",
                            fix));
}

std::string Mode(mode_t mode) { return absl::StrFormat("%04o", mode & 07777); }

// Owner and write bits of `st`, the directory at `path`. `above`: a
// directory above the checked one, where the sticky bit makes other users'
// write access harmless.
absl::Status CheckOwnerAndMode(const std::string& path, const struct stat& st,
                               bool above) {
  const uid_t me = geteuid();
  if (st.st_uid != 0 && st.st_uid != me) {
    return Unsafe(
        path,
        absl::StrCat("is owned by uid ", st.st_uid, ", not by root",
                     me == 0 ? "" : absl::StrCat(" or uid ", me),
                     " (cloudlinkd)"),
        absl::StrCat("chown ", me == 0 ? std::string("root") : absl::StrCat(me),
                     " ", path,
                     above ? "" : " (or remove it and let cloudlinkd make it)",
                     " after checking what is in it"));
  }
  if (above && (st.st_mode & S_ISVTX) != 0) return absl::OkStatus();
  if ((st.st_mode & S_IWOTH) != 0) {
    return Unsafe(
        path,
        absl::StrCat("is writable by every user (mode ", Mode(st.st_mode), ")"),
        absl::StrCat("chmod o-w ", path));
  }
  const bool trusted_group = st.st_gid == 0 || st.st_gid == getegid();
  if ((st.st_mode & S_IWGRP) != 0 && !trusted_group) {
    return Unsafe(path,
                  absl::StrCat("is writable by group ", st.st_gid, " (mode ",
                               Mode(st.st_mode), ")"),
                  absl::StrCat("chmod g-w ", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckDirSafe(const std::string& path, bool may_be_link) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return Unsafe(path,
                  absl::StrCat("cannot be examined (", strerror(errno), ")"),
                  "make it readable by cloudlinkd");
  }
  if (S_ISLNK(st.st_mode)) {
    if (!may_be_link) {
      return Unsafe(path, "is a symbolic link",
                    absl::StrCat("remove the link (rm ", path,
                                 ") and let cloudlinkd make the directory"));
    }
    if (stat(path.c_str(), &st) != 0) {
      return Unsafe(path,
                    absl::StrCat("is a link that cannot be followed (",
                                 strerror(errno), ")"),
                    "point it at a directory");
    }
  }
  if (!S_ISDIR(st.st_mode)) {
    return Unsafe(path, "is not a directory", absl::StrCat("rm ", path));
  }
  absl::Status own = CheckOwnerAndMode(path, st, /*above=*/false);
  if (!own.ok()) return own;
  // The directories above, up to the root, as the kernel resolves them.
  std::error_code ec;
  std::filesystem::path resolved = std::filesystem::canonical(path, ec);
  if (ec) return absl::OkStatus();  // vanished meanwhile: nothing to trust
  for (std::filesystem::path above = resolved.parent_path();;
       above = above.parent_path()) {
    struct stat parent;
    if (stat(above.c_str(), &parent) == 0) {
      absl::Status status =
          CheckOwnerAndMode(above.string(), parent, /*above=*/true);
      if (!status.ok()) return status;
    }
    if (above == above.parent_path()) break;
  }
  return absl::OkStatus();
}

absl::Status CheckStateDirsSafe(const std::string& config_dir,
                                const std::string& lib_dir) {
  struct Dir {
    std::string path;
    bool may_be_link;
  } dirs[] = {
      {config_dir, true},
      {lib_dir, true},
      {lib_dir + "/registry", false},
      {lib_dir + "/cloud.d", false},
      {lib_dir + "/cloud.d/spool", false},
  };
  for (const Dir& dir : dirs) {
    absl::Status status = CheckDirSafe(dir.path, dir.may_be_link);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace cloudlink::state
