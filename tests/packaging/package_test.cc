// The Debian package as `bazel build //:deb` makes it: what it holds, with
// which modes; its unit passes systemd-analyze verify; its man pages render
// without warnings; its bash completion completes every command of the
// service; and its cloudlinkd and cloudlinkctl, extracted into a temporary
// root, bring a node online against the dev cloud.

#include <sys/stat.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/descriptor_commands.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/version.h"
#include "tests/integration/fixtures/cloudlinkd_process.h"
#include "tests/integration/fixtures/dev_cloud.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"

namespace cloudlink::packaging {
namespace {

using ::cloudlink::testing::FileExists;
using ::cloudlink::testing::ReadFileOrEmpty;
using ::cloudlink::testing::RunfilePath;
using ::cloudlink::testing::RunResult;
using ::cloudlink::testing::SubprocessOptions;
using ::cloudlink::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

constexpr absl::Duration kCommandTimeout = absl::Seconds(60);
constexpr absl::Duration kOnlineWait = absl::Seconds(30);

std::string Deb() { return RunfilePath("packaging/cloudlink.deb"); }

RunResult RunCommand(std::vector<std::string> argv,
                     std::map<std::string, std::string> env = {}) {
  SubprocessOptions options;
  options.argv = std::move(argv);
  options.env = std::move(env);
  absl::StatusOr<RunResult> result = testing::Run(options, kCommandTimeout);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : RunResult{};
}

// `dpkg-deb -c`'s lines as path → "MODE OWNER" ("-rwxr-xr-x root/root").
std::map<std::string, std::string> Contents() {
  const RunResult listed = RunCommand({"/usr/bin/dpkg-deb", "-c", Deb()});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  std::map<std::string, std::string> entries;
  for (absl::string_view line : absl::StrSplit(listed.out, '\n')) {
    std::vector<std::string> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 6) continue;
    entries[fields[5]] = absl::StrCat(fields[0], " ", fields[1]);
  }
  return entries;
}

TEST(PackageTest, HoldsItsFilesWithTheirModes) {
  const std::map<std::string, std::string> entries = Contents();
  const std::map<std::string, std::string> files = {
      {"./usr/sbin/cloudlinkd", "-rwxr-xr-x root/root"},
      {"./usr/bin/cloudlinkctl", "-rwxr-xr-x root/root"},
      {"./lib/systemd/system/cloudlink.service", "-rw-r--r-- root/root"},
      {"./usr/lib/sysusers.d/cloudlink.conf", "-rw-r--r-- root/root"},
      {"./usr/share/doc/cloudlink/examples/claim.conf", "-rw-r--r-- root/root"},
      {"./usr/share/man/man8/cloudlinkd.8.gz", "-rw-r--r-- root/root"},
      {"./usr/share/man/man1/cloudlinkctl.1.gz", "-rw-r--r-- root/root"},
      {"./usr/share/bash-completion/completions/cloudlinkctl",
       "-rw-r--r-- root/root"},
  };
  std::map<std::string, std::string> found_files;
  for (const auto& [path, mode] : entries) {
    if (absl::EndsWith(path, "/")) {
      EXPECT_EQ(mode, "drwxr-xr-x root/root") << path;
    } else {
      found_files[path] = mode;
    }
  }
  // Exactly these files: nothing in /etc (claim.conf is the admin's), no
  // stray build output.
  EXPECT_EQ(found_files, files);
}

TEST(PackageTest, ControlDataAndMaintainerScripts) {
  const RunResult fields = RunCommand(
      {"/usr/bin/dpkg-deb", "-f", Deb(), "Package", "Version", "Depends"});
  ASSERT_EQ(fields.exit_code, 0) << fields.err;
  EXPECT_THAT(fields.out, HasSubstr("Package: cloudlink\n"));
  EXPECT_THAT(fields.out, HasSubstr(absl::StrCat("Version: ", kVersion, "\n")));
  for (const char* library : {"libgrpc++1.51", "libprotobuf32",
                              "libwebsockets17", "libcurl4", "libssl3"}) {
    EXPECT_THAT(fields.out, HasSubstr(library)) << fields.out;
  }
  const RunResult control = RunCommand(
      {"/bin/sh", "-c", "dpkg-deb --ctrl-tarfile \"$0\" | tar -tvf -", Deb()});
  ASSERT_EQ(control.exit_code, 0) << control.err;
  for (const char* script : {"./postinst", "./prerm", "./postrm"}) {
    bool executable = false;
    for (absl::string_view line : absl::StrSplit(control.out, '\n')) {
      if (absl::EndsWith(line, std::string(" ") + script)) {
        executable = absl::StartsWith(line, "-rwxr-xr-x root/root");
      }
    }
    EXPECT_TRUE(executable) << script << "\n" << control.out;
  }
}

// The package extracted into a temporary root.
class ExtractedPackageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.Join("root");
    const RunResult extracted =
        RunCommand({"/usr/bin/dpkg-deb", "-x", Deb(), root_});
    ASSERT_EQ(extracted.exit_code, 0) << extracted.err;
  }

  std::string InRoot(const std::string& path) const { return root_ + path; }

  TempDir tmp_;
  std::string root_;
};

TEST_F(ExtractedPackageTest, UnitIsHardenedAndVerifies) {
  const std::string unit =
      ReadFileOrEmpty(InRoot("/lib/systemd/system/cloudlink.service"));
  for (const char* line : {
           "ExecStart=/usr/sbin/cloudlinkd ",
           "ExecReload=/bin/kill -HUP $MAINPID\n",
           "StateDirectory=cloudlink\n",
           "RuntimeDirectory=cloudlink\n",
           "ConfigurationDirectory=cloudlink\n",
           "ProtectSystem=strict\n",
           "ProtectHome=yes\n",
           "NoNewPrivileges=yes\n",
           "CapabilityBoundingSet=CAP_CHOWN\n",
           "LimitCORE=0\n",
           "PrivateTmp=yes\n",
           "SystemCallFilter=@system-service\n",
       }) {
    EXPECT_THAT(unit, HasSubstr(line));
  }
  EXPECT_EQ(ReadFileOrEmpty(InRoot("/usr/lib/sysusers.d/cloudlink.conf"))
                    .find("\ng cloudlink - -\n") != std::string::npos,
            true);

  if (!FileExists("/usr/bin/systemd-analyze")) {
    GTEST_SKIP() << "systemd-analyze is not installed (Debian package "
                    "systemd); the unit's contents were checked, not verified";
  }
  // Verified as installed, with the extracted binary in ExecStart's place
  // (verify checks that the command exists). --man=no: the man pages are
  // in the temporary root, not where man looks.
  const std::string dir = tmp_.Join("unit");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  const std::string copy = dir + "/cloudlink.service";
  ASSERT_TRUE(
      testing::WriteFile(
          copy, absl::StrReplaceAll(
                    unit, {{"ExecStart=/usr/sbin/cloudlinkd",
                            "ExecStart=" + InRoot("/usr/sbin/cloudlinkd")}}))
          .ok());
  const RunResult verified =
      RunCommand({"/usr/bin/systemd-analyze", "verify", "--man=no", copy});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_EQ(verified.err, "");
}

TEST_F(ExtractedPackageTest, ManPagesRenderWithoutWarnings) {
  for (const char* page : {"/usr/share/man/man8/cloudlinkd.8.gz",
                           "/usr/share/man/man1/cloudlinkctl.1.gz"}) {
    const RunResult rendered = RunCommand(
        {"/bin/sh", "-c", "gzip -dc \"$0\" | groff -man -Tutf8 -ww -z",
         InRoot(page)});
    EXPECT_EQ(rendered.exit_code, 0) << page << rendered.err;
    EXPECT_EQ(rendered.err, "") << page;
  }
  const std::string daemon_page =
      RunCommand({"/bin/sh", "-c", "gzip -dc \"$0\"",
                  InRoot("/usr/share/man/man8/cloudlinkd.8.gz")})
          .out;
  for (const char* text : {"SIGHUP", "--log-file", "INSTANCE_RUNNING",
                           "/etc/cloudlink/claim.conf"}) {
    EXPECT_THAT(daemon_page, HasSubstr(text));
  }
}

// The completions bash offers for the command line `words` (the last one
// being completed).
std::vector<std::string> Complete(const std::string& script,
                                  const std::vector<std::string>& words) {
  std::string array;
  for (const std::string& word : words) {
    absl::StrAppend(&array, " '", word, "'");
  }
  const RunResult result =
      RunCommand({"/bin/bash", "-c",
                  absl::StrCat("source \"$0\" && COMP_WORDS=(", array,
                               ") && COMP_CWORD=", words.size() - 1,
                               " && _cloudlinkctl && printf '%s\\n' "
                               "\"${COMPREPLY[@]}\""),
                  script});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return absl::StrSplit(result.out, '\n', absl::SkipEmpty());
}

TEST_F(ExtractedPackageTest, BashCompletionKnowsEveryCommandOfTheService) {
  const std::string script =
      InRoot("/usr/share/bash-completion/completions/cloudlinkctl");
  ASSERT_TRUE(FileExists(script));
  // Every RPC of the service, as the CLI names it.
  std::vector<std::string> commands = {"aclk-state"};
  const google::protobuf::ServiceDescriptor* service =
      cloudlink::v1::State::descriptor()->file()->FindServiceByName(
          "CloudLink");
  ASSERT_NE(service, nullptr);
  for (int i = 0; i < service->method_count(); ++i) {
    commands.push_back(client::KebabCase(service->method(i)->name()));
  }
  EXPECT_THAT(Complete(script, {"cloudlinkctl", ""}), IsSupersetOf(commands));
  EXPECT_THAT(Complete(script, {"cloudlinkctl", "recl"}),
              ::testing::ElementsAre("reclaim"));
  // A command's flags (from its request's fields) and the global flags,
  // also after a global flag with its value.
  EXPECT_THAT(
      Complete(script, {"cloudlinkctl", "--socket", "/s", "claim", "--"}),
      IsSupersetOf(
          {"--token", "--rooms", "--url", "--proxy", "--insecure", "--json"}));
  // An enum flag's values.
  EXPECT_THAT(Complete(script, {"cloudlinkctl", "publish", "--level", ""}),
              ::testing::Contains("DELIVERY_LEVEL_DURABLE"));
  // Nothing is made up for a value the user types.
  EXPECT_THAT(Complete(script, {"cloudlinkctl", "claim", "--token", ""}),
              ::testing::IsEmpty());
}

TEST_F(ExtractedPackageTest, DaemonFromThePackageGoesOnline) {
  absl::StatusOr<std::unique_ptr<integration::DevCloud>> cloud =
      integration::DevCloud::Start(tmp_.Join("cloud"));
  ASSERT_TRUE(cloud.ok()) << cloud.status();
  const std::string daemon = InRoot("/usr/sbin/cloudlinkd");
  const std::string ctl = InRoot("/usr/bin/cloudlinkctl");
  EXPECT_EQ(RunCommand({daemon, "--version"}).out,
            absl::StrCat("cloudlinkd ", kVersion, "\n"));

  // The example claim.conf, filled in as an admin would.
  const std::string example =
      ReadFileOrEmpty(InRoot("/usr/share/doc/cloudlink/examples/claim.conf"));
  ASSERT_THAT(example, HasSubstr("REPLACE-WITH-THE-SPACE-CLAIM-TOKEN"));
  integration::CloudlinkdOptions options;
  options.cloudlinkd_path = daemon;
  options.cloudlinkctl_path = ctl;
  options.cloud_ca = (*cloud)->ca_path();
  options.claim_conf = absl::StrReplaceAll(
      example,
      {{"https://app.netdata.cloud", (*cloud)->url()},
       {"REPLACE-WITH-THE-SPACE-CLAIM-TOKEN", (*cloud)->Env("CLAIM_TOKEN")},
       {"REPLACE-WITH-A-ROOM-ID", (*cloud)->Env("ROOMS")},
       {"proxy = env", "proxy = none"}});
  absl::StatusOr<std::unique_ptr<integration::CloudlinkdProcess>> process =
      integration::CloudlinkdProcess::Start(options);
  ASSERT_TRUE(process.ok()) << process.status();

  absl::StatusOr<nlohmann::json> state = (*process)->WaitForOnline(kOnlineWait);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->value("status", ""), "online");
  EXPECT_EQ(state->value("claim_source", ""), "claim.conf");
  EXPECT_TRUE((*process)->Stop(absl::Seconds(15)).ok());
}

}  // namespace
}  // namespace cloudlink::packaging
