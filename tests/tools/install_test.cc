// tools/install, run with --root into a temporary directory (so that the
// test touches nothing of the system): it unpacks the package, writes
// claim.conf with mode 0640 atomically without putting the token on any
// command line it spawns, refuses bad input with exit 2, and makes a running
// cloudlinkd (found through its lib dir's lock) read the new claim.conf,
// after which the node goes online against the dev cloud.

#include <dirent.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/fixtures/cloudlinkd_process.h"
#include "tests/integration/fixtures/dev_cloud.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"

namespace cloudlink::tools {
namespace {

using ::cloudlink::testing::FileExists;
using ::cloudlink::testing::FileMode;
using ::cloudlink::testing::ReadFileOrEmpty;
using ::cloudlink::testing::RunfilePath;
using ::cloudlink::testing::RunResult;
using ::cloudlink::testing::SubprocessOptions;
using ::cloudlink::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

// A command with no other options.
SubprocessOptions Command(std::vector<std::string> argv) {
  SubprocessOptions options;
  options.argv = std::move(argv);
  return options;
}

constexpr absl::Duration kInstallTimeout = absl::Seconds(60);
constexpr absl::Duration kOnlineWait = absl::Seconds(30);
constexpr char kToken[] = "install-test-token-c2VjcmV0LTQyNDI0MjQy";

// The programs tools/install may run. Each gets a wrapper that records its
// command line before running the real one.
constexpr const char* kRecordedPrograms[] = {
    "dpkg-deb", "dpkg",     "apt-get", "getent", "mkdir",    "chown",
    "chmod",    "mktemp",   "mv",      "sync",   "flock",    "tr",
    "dirname",  "basename", "id",      "sed",    "readlink", "systemctl",
    "bazel",    "rm",       "cat",     "env"};

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.Join("root");
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
    // Wrappers first on PATH.
    shims_ = tmp_.Join("shims");
    ASSERT_EQ(mkdir(shims_.c_str(), 0755), 0);
    for (const char* name : kRecordedPrograms) {
      std::string real;
      for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"}) {
        if (FileExists(std::string(dir) + name)) {
          real = std::string(dir) + name;
          break;
        }
      }
      if (real.empty()) continue;
      const std::string shim = shims_ + "/" + name;
      ASSERT_TRUE(
          testing::WriteFile(shim, absl::StrCat("#!/bin/sh\nprintf '%s\\n' \"",
                                                name, " $*\" >>", CommandLog(),
                                                "\nexec ", real, " \"$@\"\n"))
              .ok());
      ASSERT_EQ(chmod(shim.c_str(), 0755), 0);
    }
  }

  std::string CommandLog() const { return tmp_.Join("commands.log"); }
  std::string ClaimConf() const { return root_ + "/etc/cloudlink/claim.conf"; }

  RunResult Install(std::vector<std::string> args,
                    const std::string& stdin_text = "") {
    SubprocessOptions options;
    options.argv = {"/bin/bash", RunfilePath("tools/install"),
                    "--root",    root_,
                    "--package", RunfilePath("packaging/cloudlink.deb")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env["PATH"] = shims_ + ":/usr/sbin:/usr/bin:/sbin:/bin";
    options.stdin_text = stdin_text;
    absl::StatusOr<RunResult> result = testing::Run(options, kInstallTimeout);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : RunResult{};
  }

  // Names in `dir` starting with ".claim.conf." (temporary files).
  std::vector<std::string> TemporaryFiles(const std::string& dir) {
    std::vector<std::string> names;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return names;
    while (dirent* entry = readdir(d)) {
      if (absl::StartsWith(entry->d_name, ".claim.conf.")) {
        names.push_back(entry->d_name);
      }
    }
    closedir(d);
    return names;
  }

  TempDir tmp_;
  std::string root_;
  std::string shims_;
};

TEST_F(InstallTest, UnpacksThePackageAndWritesClaimConfSafely) {
  const RunResult result = Install(
      {"--claim-token", kToken, "--claim-rooms", "room-1,room-2", "--claim-url",
       "https://cloud.example", "--claim-proxy", "http://proxy.example:3128"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(FileExists(root_ + "/usr/sbin/cloudlinkd"));
  EXPECT_TRUE(FileExists(root_ + "/lib/systemd/system/cloudlink.service"));

  const std::string conf = ReadFileOrEmpty(ClaimConf());
  for (const std::string& line :
       {std::string("[global]\n"),
        std::string("  url = https://cloud.example\n"),
        absl::StrCat("  token = ", kToken, "\n"),
        std::string("  rooms = room-1,room-2\n"),
        std::string("  proxy = http://proxy.example:3128\n"),
        std::string("  insecure = no\n")}) {
    EXPECT_THAT(conf, HasSubstr(line));
  }
  EXPECT_EQ(FileMode(ClaimConf()), 0640);
  EXPECT_EQ(FileMode(root_ + "/etc/cloudlink"), 0750);
  struct stat st;
  ASSERT_EQ(stat(ClaimConf().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, getuid());
  EXPECT_TRUE(TemporaryFiles(root_ + "/etc/cloudlink").empty());

  // The token was on no spawned program's command line, nor in the output;
  // the log shows the wrappers did record the script's programs.
  const std::string commands = ReadFileOrEmpty(CommandLog());
  EXPECT_THAT(commands, HasSubstr("dpkg-deb -x"));
  EXPECT_THAT(commands, HasSubstr("mktemp"));
  EXPECT_THAT(commands, Not(HasSubstr(kToken)));
  EXPECT_THAT(result.out + result.err, Not(HasSubstr(kToken)));
  // No daemon runs on the root's lib dir: it says how to start one.
  EXPECT_THAT(result.err,
              HasSubstr("start it with: " + root_ + "/usr/sbin/cloudlinkd"));

  // Again, with the token from stdin: the file is replaced whole.
  const RunResult again =
      Install({"--claim-token", "-", "--claim-rooms", "room-3", "--claim-url",
               "https://cloud.example"},
              std::string(kToken) + "-2\n");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const std::string replaced = ReadFileOrEmpty(ClaimConf());
  EXPECT_THAT(replaced, HasSubstr(absl::StrCat("  token = ", kToken, "-2\n")));
  EXPECT_THAT(replaced, HasSubstr("  rooms = room-3\n"));
  EXPECT_THAT(replaced, Not(HasSubstr("proxy")));
  EXPECT_EQ(FileMode(ClaimConf()), 0640);
}

TEST_F(InstallTest, BadInputExitsTwoAndWritesNothing) {
  const std::vector<std::vector<std::string>> cases = {
      {"--claim-rooms", "r", "--claim-url", "https://c.example"},
      {"--claim-token", kToken, "--claim-url", "https://c.example"},
      {"--claim-token", kToken, "--claim-rooms", "r"},
      {"--claim-token", absl::StrCat(kToken, "\n  url = https://evil"),
       "--claim-rooms", "r", "--claim-url", "https://c.example"},
      {"--claim-token", kToken, "--claim-rooms", "r", "--claim-url",
       "c.example"},
      {"--claim-token", kToken, "--claim-rooms", "r", "--claim-url",
       "https://c.example", "--no-such-option", "x"},
  };
  for (const std::vector<std::string>& args : cases) {
    const RunResult result = Install(args);
    EXPECT_EQ(result.exit_code, 2) << absl::StrJoin(args, " ") << result.err;
    EXPECT_THAT(result.err, HasSubstr("install: ")) << result.err;
    EXPECT_THAT(result.err, Not(HasSubstr(kToken)));
  }
  EXPECT_FALSE(FileExists(root_ + "/etc"));
  EXPECT_FALSE(FileExists(root_ + "/usr"));
}

TEST_F(InstallTest, SignalsTheRunningDaemonWhichGoesOnline) {
  absl::StatusOr<std::unique_ptr<integration::DevCloud>> cloud =
      integration::DevCloud::Start(tmp_.Join("cloud"));
  ASSERT_TRUE(cloud.ok()) << cloud.status();
  // The package's daemon runs on the root's directories, unclaimed.
  const RunResult unpacked =
      testing::Run(Command({"/usr/bin/dpkg-deb", "-x",
                            RunfilePath("packaging/cloudlink.deb"), root_}),
                   kInstallTimeout)
          .value_or(RunResult{});
  ASSERT_EQ(unpacked.exit_code, 0) << unpacked.err;
  const std::string socket = root_ + "/run/cloudlink/cloudlink.sock";
  // /run exists on every system (the daemon creates only the socket's own
  // directory; the unit's RuntimeDirectory= does even that).
  ASSERT_EQ(mkdir((root_ + "/run").c_str(), 0755), 0);
  integration::CloudlinkdOptions daemon_options;
  daemon_options.cloudlinkd_path = root_ + "/usr/sbin/cloudlinkd";
  daemon_options.cloudlinkctl_path = root_ + "/usr/bin/cloudlinkctl";
  daemon_options.socket_path = socket;
  daemon_options.config_dir = root_ + "/etc/cloudlink";
  daemon_options.lib_dir = root_ + "/var/lib/cloudlink";
  daemon_options.cloud_ca = (*cloud)->ca_path();
  daemon_options.ready_timeout = absl::Seconds(20);
  absl::StatusOr<std::unique_ptr<integration::CloudlinkdProcess>> daemon =
      integration::CloudlinkdProcess::Start(daemon_options);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  ASSERT_TRUE(FileExists(socket));

  const std::string token = (*cloud)->Env("CLAIM_TOKEN");
  const RunResult result =
      Install({"--claim-token", token, "--claim-rooms", (*cloud)->Env("ROOMS"),
               "--claim-url", (*cloud)->url(), "--claim-proxy", "none"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err,
              HasSubstr(absl::StrCat("sent SIGHUP to cloudlinkd (pid ",
                                     (*daemon)->process()->pid(), ")")));
  EXPECT_THAT(ReadFileOrEmpty(CommandLog()), Not(HasSubstr(token)));

  absl::StatusOr<nlohmann::json> state = (*daemon)->WaitForOnline(kOnlineWait);
  EXPECT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state.value_or(nlohmann::json::object()).value("claim_source", ""),
            "claim.conf");
  EXPECT_THAT((*daemon)->Stderr(), HasSubstr("cloudlinkd: SIGHUP, reloading"));
  EXPECT_TRUE((*daemon)->Stop(absl::Seconds(15)).ok());
}

}  // namespace
}  // namespace cloudlink::tools
