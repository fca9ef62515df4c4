#include "server/state/dir_safety.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "tests/testing/test_env.h"

namespace cloudlink::state {
namespace {

using ::cloudlink::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

class DirSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(Config().c_str(), 0755), 0);
    ASSERT_EQ(mkdir(Lib().c_str(), 0755), 0);
  }
  std::string Config() const { return tmp_.Join("etc"); }
  std::string Lib() const { return tmp_.Join("lib"); }
  void MakeDir(const std::string& path, mode_t mode) {
    ASSERT_EQ(mkdir(path.c_str(), 0700), 0) << path;
    ASSERT_EQ(chmod(path.c_str(), mode), 0) << path;
  }
  TempDir tmp_;
};

TEST_F(DirSafetyTest, OwnDirectoriesAndMissingOnesAreSafe) {
  EXPECT_TRUE(CheckStateDirsSafe(Config(), Lib()).ok());
  MakeDir(Lib() + "/cloud.d", 0700);
  MakeDir(Lib() + "/cloud.d/spool", 0700);
  MakeDir(Lib() + "/registry", 0755);
  EXPECT_TRUE(CheckStateDirsSafe(Config(), Lib()).ok());
  // Group-writable for our own group is fine.
  ASSERT_EQ(chmod(Lib().c_str(), 0775), 0);
  EXPECT_TRUE(CheckStateDirsSafe(Config(), Lib()).ok());
  EXPECT_TRUE(CheckStateDirsSafe(Config(), tmp_.Join("missing")).ok());
}

TEST_F(DirSafetyTest, AWorldWritableDirectoryIsRefusedNamingPathAndFix) {
  MakeDir(Lib() + "/cloud.d", 0777);
  absl::Status status = CheckStateDirsSafe(Config(), Lib());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(status), "STATE_DIR_UNSAFE");
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr(Lib() + "/cloud.d is writable by every user "
                                      "(mode 0777)"),
                    HasSubstr("chmod o-w " + Lib() + "/cloud.d")));
  ASSERT_EQ(chmod((Lib() + "/cloud.d").c_str(), 0700), 0);
  ASSERT_EQ(chmod(Config().c_str(), 0757), 0);
  EXPECT_THAT(std::string(CheckStateDirsSafe(Config(), Lib()).message()),
              HasSubstr(Config() + " is writable by every user"));
}

TEST_F(DirSafetyTest, AParentWritableByOthersIsRefusedUnlessSticky) {
  ASSERT_EQ(chmod(tmp_.path().c_str(), 0777), 0);
  EXPECT_THAT(std::string(CheckStateDirsSafe(Config(), Lib()).message()),
              HasSubstr(tmp_.path() + " is writable by every user"));
  ASSERT_EQ(chmod(tmp_.path().c_str(), 01777), 0);
  EXPECT_TRUE(CheckStateDirsSafe(Config(), Lib()).ok());
  ASSERT_EQ(chmod(tmp_.path().c_str(), 0700), 0);
}

TEST_F(DirSafetyTest, ALinkIsRefusedWhereCloudlinkdMakesTheDirectory) {
  MakeDir(tmp_.Join("elsewhere"), 0700);
  ASSERT_EQ(
      symlink(tmp_.Join("elsewhere").c_str(), (Lib() + "/cloud.d").c_str()), 0);
  EXPECT_THAT(std::string(CheckStateDirsSafe(Config(), Lib()).message()),
              AllOf(HasSubstr(Lib() + "/cloud.d is a symbolic link"),
                    HasSubstr("rm " + Lib() + "/cloud.d")));
  // The lib directory itself may be a link to a safe directory.
  ASSERT_EQ(unlink((Lib() + "/cloud.d").c_str()), 0);
  ASSERT_EQ(symlink(Lib().c_str(), tmp_.Join("lib-link").c_str()), 0);
  EXPECT_TRUE(CheckStateDirsSafe(Config(), tmp_.Join("lib-link")).ok());
}

TEST_F(DirSafetyTest, ADirectoryOwnedByAnotherUserIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  MakeDir(Lib() + "/registry", 0755);
  if (chown((Lib() + "/registry").c_str(), 65534, 65534) != 0) {
    GTEST_SKIP() << "chown to 65534 is not possible here";
  }
  EXPECT_THAT(std::string(CheckStateDirsSafe(Config(), Lib()).message()),
              AllOf(HasSubstr(Lib() + "/registry is owned by uid 65534"),
                    HasSubstr("chown root " + Lib() + "/registry")));
}

}  // namespace
}  // namespace cloudlink::state
