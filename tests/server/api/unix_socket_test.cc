#include "server/api/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "tests/testing/test_env.h"

namespace cloudlink::api {
namespace {

using ::cloudlink::testing::FileExists;
using ::cloudlink::testing::FileMode;
using ::cloudlink::testing::ReadFileOrEmpty;
using ::cloudlink::testing::TempDir;
using ::cloudlink::testing::WriteFile;
using ::testing::HasSubstr;

// A Unix socket bound at `path`; listening when `listen_too`. Closed (the
// file stays, as after a crash) on destruction.
class BoundSocket {
 public:
  BoundSocket(const std::string& path, bool listen_too) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    ok_ = fd_ >= 0 &&
          bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
          (!listen_too || listen(fd_, 4) == 0);
  }
  ~BoundSocket() { Close(); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

bool IsSocket(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(umask(mask)) {}
  ~ScopedUmask() { umask(old_); }

 private:
  mode_t old_;
};

TEST(PrepareSocketPathTest, CreatesTheSocketsOwnDirectoryWithMode0750) {
  TempDir tmp;
  const std::string path = tmp.Join("run/api.sock");
  {
    ScopedUmask mask(077);
    ASSERT_TRUE(PrepareSocketPath(path).ok());
  }
  EXPECT_EQ(FileMode(tmp.Join("run")), 0750);
  EXPECT_FALSE(FileExists(path));  // only the directory is made
  {
    ScopedUmask mask(0);
    const std::string other = tmp.Join("run2/api.sock");
    ASSERT_TRUE(PrepareSocketPath(other).ok());
    EXPECT_EQ(FileMode(tmp.Join("run2")), 0750);
  }
}

// A mistyped --socket must not leave a tree of directories behind: only the
// socket's own directory is created, never its missing parents.
TEST(PrepareSocketPathTest, MissingParentsOfTheSocketDirectoryAreNotCreated) {
  TempDir tmp;
  const absl::Status status =
      PrepareSocketPath(tmp.Join("run/cloudlink/api.sock"));
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(ReasonOf(status), "SOCKET_DIR_FAILED");
  EXPECT_THAT(std::string(status.message()), HasSubstr(tmp.Join("run")));
  EXPECT_FALSE(FileExists(tmp.Join("run")));
}

TEST(PrepareSocketPathTest, ExistingDirectoryIsUsedAsIs) {
  TempDir tmp;
  ASSERT_EQ(mkdir(tmp.Join("run").c_str(), 0755), 0);
  ASSERT_EQ(chmod(tmp.Join("run").c_str(), 0755), 0);
  EXPECT_TRUE(PrepareSocketPath(tmp.Join("run/api.sock")).ok());
  EXPECT_EQ(FileMode(tmp.Join("run")), 0755);
}

TEST(PrepareSocketPathTest, StaleSocketIsReplaced) {
  TempDir tmp;
  const std::string path = tmp.Join("api.sock");
  BoundSocket stale(path, /*listen_too=*/false);  // nobody accepts
  ASSERT_TRUE(stale.ok());
  ASSERT_TRUE(IsSocket(path));
  EXPECT_TRUE(PrepareSocketPath(path).ok());
  EXPECT_FALSE(FileExists(path));
}

TEST(PrepareSocketPathTest, SocketOfADeadListenerIsReplaced) {
  TempDir tmp;
  const std::string path = tmp.Join("api.sock");
  BoundSocket dead(path, /*listen_too=*/true);
  ASSERT_TRUE(dead.ok());
  dead.Close();  // the daemon died; its socket file stayed
  ASSERT_TRUE(IsSocket(path));
  EXPECT_TRUE(PrepareSocketPath(path).ok());
  EXPECT_FALSE(FileExists(path));
}

TEST(PrepareSocketPathTest, LiveSocketIsInUse) {
  TempDir tmp;
  const std::string path = tmp.Join("api.sock");
  BoundSocket live(path, /*listen_too=*/true);
  ASSERT_TRUE(live.ok());
  absl::Status status = PrepareSocketPath(path);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(status), "SOCKET_IN_USE");
  EXPECT_THAT(std::string(status.message()), HasSubstr(path));
  EXPECT_TRUE(IsSocket(path));  // never taken over
}

TEST(PrepareSocketPathTest, RegularFileIsNotReplaced) {
  TempDir tmp;
  const std::string path = tmp.Join("api.sock");
  ASSERT_TRUE(WriteFile(path, "precious").ok());
  absl::Status status = PrepareSocketPath(path);
  EXPECT_EQ(ReasonOf(status), "SOCKET_PATH_INVALID");
  EXPECT_THAT(std::string(status.message()), HasSubstr("not a socket"));
  EXPECT_EQ(ReadFileOrEmpty(path), "precious");
}

TEST(PrepareSocketPathTest, SymlinkAndDirectoryAreNotReplaced) {
  TempDir tmp;
  const std::string link = tmp.Join("link.sock");
  ASSERT_EQ(symlink(tmp.Join("elsewhere").c_str(), link.c_str()), 0);
  EXPECT_EQ(ReasonOf(PrepareSocketPath(link)), "SOCKET_PATH_INVALID");
  EXPECT_TRUE(FileExists(link));
  const std::string dir = tmp.Join("dir.sock");
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  EXPECT_EQ(ReasonOf(PrepareSocketPath(dir)), "SOCKET_PATH_INVALID");
  EXPECT_TRUE(FileExists(dir));
}

TEST(PrepareSocketPathTest, PathTooLongOrRelativeIsInvalid) {
  TempDir tmp;
  const size_t limit = sizeof(sockaddr_un{}.sun_path);
  std::string dir = tmp.Join("d");
  std::string path = dir + "/" + std::string(limit - dir.size() - 1, 's');
  ASSERT_EQ(path.size(), limit);  // one byte too long (no room for the NUL)
  absl::Status status = PrepareSocketPath(path);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(status), "SOCKET_PATH_INVALID");
  EXPECT_THAT(std::string(status.message()), HasSubstr("bytes"));
  EXPECT_FALSE(FileExists(dir));  // nothing made for a path it refuses

  // The longest path that fits is fine.
  path.pop_back();
  EXPECT_TRUE(PrepareSocketPath(path).ok());

  EXPECT_EQ(ReasonOf(PrepareSocketPath("run/api.sock")), "SOCKET_PATH_INVALID");
  EXPECT_EQ(ReasonOf(PrepareSocketPath("")), "SOCKET_PATH_INVALID");
}

TEST(PrepareSocketPathTest, ParentThatIsAFileFails) {
  TempDir tmp;
  ASSERT_TRUE(WriteFile(tmp.Join("file"), "x").ok());
  absl::Status status = PrepareSocketPath(tmp.Join("file/api.sock"));
  EXPECT_EQ(ReasonOf(status), "SOCKET_DIR_FAILED");
  EXPECT_EQ(ReadFileOrEmpty(tmp.Join("file")), "x");
}

}  // namespace
}  // namespace cloudlink::api
