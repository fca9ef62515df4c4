// End to end: cloudlinkctl's exit codes, JSON errors and secret forms
// against the real cloudlinkd (unclaimed, no cloud involved), and the
// daemon's --socket directory rule. The CLI's behaviour against every kind
// of answer is in tests/client/cloudlinkctl_test.cc; the socket permission
// message in authz_test.cc (it needs other uids).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/fixtures/cloudlinkd_process.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {
namespace {

using ::cloudlink::testing::FileExists;
using ::cloudlink::testing::RunResult;
using ::cloudlink::testing::TempDir;
using ::cloudlink::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kStartTimeout = absl::Seconds(20);
constexpr absl::Duration kCliTimeout = absl::Seconds(20);
// Well-formed, never sent anywhere: the claim fails on its URL first.
constexpr char kToken[] = "claim-token-Y2xpLXRlc3Qtc2VjcmV0LTk4NzY1NDM";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CloudlinkdOptions options;
    options.ready_timeout = kStartTimeout;
    absl::StatusOr<std::unique_ptr<CloudlinkdProcess>> daemon =
        CloudlinkdProcess::Start(options);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }

  RunResult Ctl(std::vector<std::string> args,
                std::map<std::string, std::string> env = {},
                std::string stdin_text = "") {
    return daemon_->Ctl(args, CtlInput{std::move(env), std::move(stdin_text)},
                        kCliTimeout);
  }

  TempDir tmp_;
  std::unique_ptr<CloudlinkdProcess> daemon_;
};

nlohmann::json ErrorOf(const RunResult& run) {
  const std::vector<std::string> lines =
      absl::StrSplit(run.err, '\n', absl::SkipEmpty());
  if (lines.empty()) return nlohmann::json();
  nlohmann::json json = nlohmann::json::parse(lines.back(), nullptr, false);
  return json.is_object() && json.contains("error") ? json["error"]
                                                    : nlohmann::json();
}

TEST_F(CliTest, EveryExitCode) {
  // 0: success.
  EXPECT_EQ(Ctl({"get-state"}).exit_code, 0);
  // 2: usage; nothing reaches the daemon.
  const RunResult no_token = Ctl({"claim"});
  EXPECT_EQ(no_token.exit_code, 2) << no_token.err;
  EXPECT_THAT(no_token.err, HasSubstr("MISSING_FLAG: claim needs --token"));
  EXPECT_THAT(daemon_->Stderr(), Not(HasSubstr("API: Claim")));
  // 1: the daemon's error.
  const RunResult bad_token =
      Ctl({"claim", "--token", "-"}, {}, "not a token\n");
  EXPECT_EQ(bad_token.exit_code, 1) << bad_token.err;
  EXPECT_THAT(bad_token.err, HasSubstr("TOKEN_INVALID_FORMAT"));
  // 4: the unclaimed node does not come online on reload.
  const RunResult reload =
      Ctl({"reload-claiming-state", "--wait-seconds", "1"});
  EXPECT_EQ(reload.exit_code, 4) << reload.err;
  EXPECT_THAT(reload.out, HasSubstr("status: available\n"));
  EXPECT_THAT(reload.err,
              HasSubstr("STATE_NOT_REACHED: the node is not online after the "
                        "reload (status available: NOT_CLAIMED"));
  // 5: an ack carries an error (an empty topic is TOPIC_UNKNOWN at once).
  const RunResult publish =
      Ctl({"publish"}, {},
          "{\"id\":1,\"topic\":\"\",\"payload\":\"aGk=\"}\n"
          "{\"id\":2,\"topic\":\"\",\"payload\":\"aGk=\",\"level\":"
          "\"DELIVERY_LEVEL_DURABLE\"}\n");
  EXPECT_EQ(publish.exit_code, 5) << publish.err;
  EXPECT_THAT(publish.err, HasSubstr("PUBLISH_ACKS_FAILED: 2 of 2 messages "
                                     "were not accepted (id 1: TOPIC_UNKNOWN"));
  // 3: no daemon.
  const RunResult absent =
      Ctl({"get-state", "--socket", tmp_.Join("run/absent.sock")});
  EXPECT_EQ(absent.exit_code, 3) << absent.err;
  EXPECT_THAT(absent.err, HasSubstr("DAEMON_UNREACHABLE"));
}

TEST_F(CliTest, JsonErrors) {
  const RunResult reload =
      Ctl({"--json", "reload-claiming-state", "--wait-seconds", "1"});
  EXPECT_EQ(reload.exit_code, 4);
  EXPECT_EQ(nlohmann::json::parse(reload.out, nullptr, false)["status"],
            "available");
  const nlohmann::json not_reached = ErrorOf(reload);
  EXPECT_EQ(not_reached["reason"], "STATE_NOT_REACHED") << reload.err;
  EXPECT_EQ(not_reached["code"], "FAILED_PRECONDITION");
  EXPECT_EQ(not_reached["exit_code"], 4);

  const RunResult bad_token =
      Ctl({"claim", "--json"}, {{"CLOUDLINK_TOKEN", "not a token"}});
  EXPECT_EQ(bad_token.exit_code, 1);
  const nlohmann::json daemon_error = ErrorOf(bad_token);
  EXPECT_EQ(daemon_error["reason"], "TOKEN_INVALID_FORMAT") << bad_token.err;
  EXPECT_EQ(daemon_error["code"], "INVALID_ARGUMENT");
  EXPECT_THAT(daemon_error["message"].get<std::string>(),
              ::testing::StartsWith("TOKEN_INVALID_FORMAT: "));

  const RunResult usage = Ctl({"--json", "claim"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(ErrorOf(usage)["reason"], "MISSING_FLAG") << usage.err;

  const RunResult publish =
      Ctl({"--json", "publish"}, {}, "{\"id\":1,\"topic\":\"\"}\n");
  EXPECT_EQ(publish.exit_code, 5);
  EXPECT_EQ(ErrorOf(publish)["reason"], "PUBLISH_ACKS_FAILED") << publish.err;
  EXPECT_EQ(ErrorOf(publish)["code"], "INVALID_ARGUMENT");
}

TEST_F(CliTest, SecretFormsReachTheDaemon) {
  // The claim fails on the URL (a closed loopback port) after the token was
  // accepted as well-formed: the daemon got it, whichever the form.
  const int port = testing::PickFreePort();
  const std::string url = absl::StrCat("https://127.0.0.1:", port);
  const std::string file = tmp_.Join("token");
  ASSERT_TRUE(WriteFile(file, absl::StrCat(kToken, "\n")).ok());
  const std::vector<std::pair<std::string, RunResult>> runs = {
      {"file", Ctl({"claim", "--url", url, "--token-file", file})},
      {"stdin", Ctl({"claim", "--url", url, "--token", "-"}, {},
                    absl::StrCat(kToken, "\n"))},
      {"env", Ctl({"claim", "--url", url}, {{"CLOUDLINK_TOKEN", kToken}})},
      {"argument", Ctl({"claim", "--url", url, "--token", kToken})},
  };
  for (const auto& [form, run] : runs) {
    SCOPED_TRACE(form);
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_THAT(run.err, HasSubstr("CONNECT_FAILED"));
    EXPECT_THAT(run.err, Not(HasSubstr("TOKEN_INVALID_FORMAT")));
    EXPECT_EQ(absl::StrContains(run.err, "SECRET_ON_COMMAND_LINE"),
              form == "argument");
    EXPECT_THAT(run.out + run.err, Not(HasSubstr(kToken)));
  }
}

// cloudlinkd creates the socket's own directory, never its missing parents.
TEST(CloudlinkdSocketTest, OnlyTheSocketsOwnDirectoryIsCreated) {
  TempDir tmp;
  CloudlinkdOptions options;
  options.socket_path = tmp.Join("a/b/cl.sock");
  options.ready_timeout = kStartTimeout;
  absl::StatusOr<std::unique_ptr<CloudlinkdProcess>> started =
      CloudlinkdProcess::Start(options);
  ASSERT_FALSE(started.ok());
  // The status says how the daemon ended and carries its stderr.
  const std::string refused(started.status().message());
  EXPECT_THAT(refused, HasSubstr("cloudlinkd exited during start (exit "));
  EXPECT_THAT(refused, Not(HasSubstr("(exit 0)")));
  EXPECT_THAT(refused, HasSubstr("SOCKET_DIR_FAILED"));
  EXPECT_THAT(refused, HasSubstr(tmp.Join("a")));
  EXPECT_FALSE(FileExists(tmp.Join("a")));
}

}  // namespace
}  // namespace cloudlink::integration
