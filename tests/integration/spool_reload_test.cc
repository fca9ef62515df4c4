// The durable spool after the lib dir is fixed. cloudlinkd runs as nobody
// on a lib dir that root owns (only the instance lock file is nobody's), so
// cloud.d/spool/ cannot be made: the spool stays off and DURABLE publishes
// are refused with SPOOL_UNAVAILABLE. Once the directory is given to the
// daemon's user, a reload (reload-claiming-state or SIGHUP) opens the spool
// without a restart.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;
constexpr char kOpened[] = "SPOOL: opened on reload; durable publishing is on";

class SpoolReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0)
      GTEST_SKIP() << "needs root to run cloudlinkd as nobody";
    // nobody must reach everything: the binary (runfiles live under a
    // directory only root may enter), the directories.
    ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
    const std::string binary = dir_.Join("cloudlinkd");
    const std::string original =
        testing::ReadFileOrEmpty(testing::RunfilePath("server/cloudlinkd"));
    ASSERT_FALSE(original.empty());
    ASSERT_TRUE(testing::WriteFile(binary, original).ok());
    ASSERT_EQ(chmod(binary.c_str(), 0755), 0);
    for (const char* name : {"run", "etc", "lib"}) {
      ASSERT_EQ(mkdir(dir_.Join(name).c_str(), 0755), 0) << name;
    }
    ASSERT_EQ(chown(dir_.Join("run").c_str(), kNobody, kNogroup), 0);
    // The instance lock is the daemon's; the rest of the lib dir is not.
    lock_ = dir_.Join("lib/cloudlinkd.lock");
    ASSERT_TRUE(testing::WriteFile(lock_, "").ok());
    ASSERT_EQ(chown(lock_.c_str(), kNobody, kNogroup), 0);

    testing::SubprocessOptions options;
    options.argv = {"/usr/bin/setpriv", "--reuid=65534",  "--regid=65534",
                    "--clear-groups",   binary,           "--socket",
                    Socket(),           "--config-dir",   dir_.Join("etc"),
                    "--lib-dir",        dir_.Join("lib"), "--http-listen="};
    options.stderr_path = dir_.Join("cloudlinkd.err");
    auto started = testing::Subprocess::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    daemon_ = *std::move(started);
    ASSERT_TRUE(testing::WaitFor(
        [&] { return Ctl({"get-state"}).exit_code == 0; }, absl::Seconds(15)))
        << Log();
    ASSERT_THAT(Log(), HasSubstr("durable publishing is off"));
    const std::string refused = PublishDurable();
    ASSERT_THAT(refused, HasSubstr("SPOOL_UNAVAILABLE")) << refused;
    // The administrator fixes the directory.
    ASSERT_EQ(chown(dir_.Join("lib").c_str(), kNobody, kNogroup), 0);
  }

  std::string Socket() const { return dir_.Join("run/cl.sock"); }
  std::string Log() const {
    return testing::ReadFileOrEmpty(dir_.Join("cloudlinkd.err"));
  }

  testing::RunResult Ctl(std::vector<std::string> args) {
    testing::SubprocessOptions options;
    options.argv = {testing::RunfilePath("client/cloudlinkctl"), "--socket",
                    Socket()};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.unset_env = {"CLOUDLINK_SOCKET"};
    absl::StatusOr<testing::RunResult> result =
        testing::Run(options, absl::Seconds(20));
    return result.ok() ? *result : testing::RunResult();
  }

  // One DURABLE publish; its output (ack or error).
  std::string PublishDurable() {
    const testing::RunResult result =
        Ctl({"--json", "publish", "--id", "1", "--topic", "alarm-log",
             "--payload", "aGk=", "--level", "DELIVERY_LEVEL_DURABLE"});
    return result.out + result.err;
  }

  testing::TempDir dir_;
  std::string lock_;
  std::unique_ptr<testing::Subprocess> daemon_;
};

TEST_F(SpoolReloadTest, ReloadClaimingStateOpensTheSpool) {
  Ctl({"reload-claiming-state", "--wait-seconds", "0"});
  EXPECT_THAT(Log(), HasSubstr(kOpened));
  const std::string published = PublishDurable();
  EXPECT_THAT(published, Not(HasSubstr("SPOOL_UNAVAILABLE"))) << published;
  EXPECT_THAT(published, HasSubstr("\"id\"")) << published;
  struct stat st;
  ASSERT_EQ(stat(dir_.Join("lib/cloud.d/spool").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_uid, kNobody);
}

TEST_F(SpoolReloadTest, SighupOpensTheSpool) {
  daemon_->Signal(SIGHUP);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return absl::StrContains(Log(), "cloudlinkd: reloaded"); },
      absl::Seconds(10)))
      << Log();
  EXPECT_THAT(Log(), HasSubstr(kOpened));
  const std::string published = PublishDurable();
  EXPECT_THAT(published, Not(HasSubstr("SPOOL_UNAVAILABLE"))) << published;
}

}  // namespace
}  // namespace cloudlink::integration
