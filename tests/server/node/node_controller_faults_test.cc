// The node controller when the disk fails under it: a FileSystem whose
// atomic writes fail with ENOSPC or EROFS at a chosen
// step, standing in for a full or read-only lib directory. Every failure is a
// clear STATE_WRITE_FAILED (or CLAIM_CONF_WRITE_FAILED), the old state stays
// intact, GetState keeps answering, and claiming works once the disk heals.

#include <sys/stat.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "server/common/mutex.h"
#include "server/node/node_controller.h"
#include "server/state/file_system.h"
#include "server/state/state_dir.h"
#include "tests/server/claim/scripted_http_client.h"
#include "tests/server/link/fake_wss_connector.h"
#include "tests/testing/test_env.h"

namespace cloudlink::node {
namespace {

using ::cloudlink::testing::FileExists;
using ::cloudlink::testing::ReadFileOrEmpty;
using ::cloudlink::testing::ScriptedHttpClient;
using ::cloudlink::testing::TempDir;
using ::cloudlink::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kUrl[] = "https://cloud.example";
constexpr char kToken[] = "claim-token-ZGlzay1mdWxsLXNlY3JldC0xMjM0";

// The real filesystem, except that atomic writes of files whose name ends in
// one of the armed suffixes fail at the armed step with the armed status, as
// a full (ENOSPC) or read-only (EROFS) disk makes them fail. Thread-safe.
class FailingFileSystem : public state::PosixFileSystem {
 public:
  void Arm(std::vector<std::string> suffixes, WriteStep step,
           absl::Status status) {
    MutexLock lock(&mu_);
    suffixes_ = std::move(suffixes);
    step_ = step;
    status_ = std::move(status);
  }
  void Heal() { Arm({}, WriteStep::kOpenTemp, absl::OkStatus()); }
  int failures() const {
    MutexLock lock(&mu_);
    return failures_;
  }

  static absl::Status DiskFull(const std::string& path) {
    return absl::ResourceExhaustedError(
        absl::StrCat("write ", path, ".tmp: No space left on device"));
  }
  static absl::Status ReadOnly(const std::string& path) {
    return absl::PermissionDeniedError(
        absl::StrCat("open ", path, ".tmp: Read-only file system"));
  }

  using PosixFileSystem::WriteStep;

 protected:
  absl::Status BeforeStep(WriteStep step, const std::string& path) override {
    MutexLock lock(&mu_);
    if (step != step_ || status_.ok()) return absl::OkStatus();
    for (const std::string& suffix : suffixes_) {
      if (absl::EndsWith(path, suffix)) {
        ++failures_;
        return status_;
      }
    }
    return absl::OkStatus();
  }

 private:
  mutable Mutex mu_;
  std::vector<std::string> suffixes_ ABSL_GUARDED_BY(mu_);
  WriteStep step_ ABSL_GUARDED_BY(mu_) = WriteStep::kOpenTemp;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
};

using WriteStep = FailingFileSystem::WriteStep;

// How the disk fails: ENOSPC while writing, or EROFS when opening.
struct DiskFault {
  const char* name;
  WriteStep step;
  absl::Status (*status)(const std::string&);
};

class NodeControllerDiskFaultTest : public ::testing::TestWithParam<DiskFault> {
 protected:
  NodeControllerDiskFaultTest() {
    mkdir(tmp_.Join("etc").c_str(), 0755);
    options_.config_dir = tmp_.Join("etc");
    options_.lib_dir = tmp_.Join("lib");
    options_.hostname = "node-1";
    options_.claimer.pause = [](absl::Duration) {};
    options_.claim_retry = {2, absl::Hours(1), absl::Hours(1)};
    http_.AnswerAlways("/api/v1/env",
                       Error(absl::StatusCode::kUnavailable,
                             reason::kConnectFailed, "no cloud here"));
  }

  NodeController& Node() {
    if (!node_) {
      node_ = std::make_unique<NodeController>(options_, &fs_, &http_, &wss_);
      node_->Start();
    }
    return *node_;
  }

  void Arm(std::vector<std::string> suffixes) {
    fs_.Arm(std::move(suffixes), GetParam().step,
            GetParam().status(tmp_.Join("lib/...")));
  }

  ClaimArgs Args() {
    ClaimArgs args;
    args.token = kToken;
    args.url = kUrl;
    args.rooms = {"room-a"};
    return args;
  }

  state::StateDir Dir() { return state::StateDir(tmp_.Join("lib"), &fs_); }

  std::map<std::string, std::string> CloudDirFiles() {
    std::map<std::string, std::string> files;
    state::StateDir dir = Dir();
    for (const std::string& path :
         {dir.CloudConfPath(), dir.ClaimedIdPath(), dir.PrivateKeyPath(),
          dir.PublicKeyPath()}) {
      if (FileExists(path)) files[path] = ReadFileOrEmpty(path);
    }
    return files;
  }

  void ExpectStateWriteFailed(const absl::Status& status) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
    EXPECT_THAT(std::string(status.message()),
                StartsWith("STATE_WRITE_FAILED: "));
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(kToken)));
    const NodeState state = Node().GetState().first;
    EXPECT_FALSE(state.claimed);
    EXPECT_THAT(state.reason, StartsWith("STATE_WRITE_FAILED: "));
  }

  TempDir tmp_;
  FailingFileSystem fs_;
  ScriptedHttpClient http_;
  // The link never gets past env/login here (the HTTP script does not
  // serve them): connections are refused.
  testing::FakeClock wss_clock_;
  testing::FakeWssConnector wss_{&wss_clock_};
  NodeOptions options_;
  std::unique_ptr<NodeController> node_;
};

// The cloud accepts the claim but cloud.conf cannot be written: the node
// stays unclaimed with no half-written claim; a later claim succeeds.
TEST_P(NodeControllerDiskFaultTest, StoringTheClaimFailsCleanly) {
  Node();
  Arm({"/cloud.conf"});
  http_.Respond(204);
  absl::StatusOr<ClaimOutcome> claimed = Node().Claim(Args());
  ASSERT_FALSE(claimed.ok());
  ExpectStateWriteFailed(claimed.status());
  EXPECT_GE(fs_.failures(), 1);
  EXPECT_FALSE(FileExists(Dir().CloudConfPath()));
  EXPECT_FALSE(FileExists(Dir().ClaimedIdPath()));
  absl::StatusOr<absl::optional<state::StoredClaim>> stored = Dir().ReadClaim();
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_FALSE(stored->has_value());

  fs_.Heal();
  http_.Respond(204);
  claimed = Node().Claim(Args());
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_EQ(ReadFileOrEmpty(Dir().ClaimedIdPath()), claimed->claimed_id);
  EXPECT_TRUE(Node().GetState().first.claimed);
}

// The key pair cannot be stored: STATE_WRITE_FAILED before anything is sent
// to the cloud (no token leaves the node for a claim that cannot be kept).
TEST_P(NodeControllerDiskFaultTest, StoringTheKeyPairFailsBeforeSending) {
  Node();
  Arm({"/private.pem", "/public.pem"});
  absl::StatusOr<ClaimOutcome> claimed = Node().Claim(Args());
  ASSERT_FALSE(claimed.ok());
  ExpectStateWriteFailed(claimed.status());
  EXPECT_EQ(http_.call_count(), 0);
  EXPECT_FALSE(FileExists(Dir().PublicKeyPath()));
}

// cloud.conf (the commit point) is written but claimed_id is not: the claim
// stands, reads back whole, and claimed_id is repaired once the disk heals.
TEST_P(NodeControllerDiskFaultTest, ClaimedIdFailingAfterTheCommitKeepsClaim) {
  Node();
  Arm({"/claimed_id"});
  http_.Respond(204);
  absl::StatusOr<ClaimOutcome> claimed = Node().Claim(Args());
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  const NodeState state = Node().GetState().first;
  EXPECT_TRUE(state.claimed);
  EXPECT_EQ(state.claimed_id, claimed->claimed_id);
  EXPECT_FALSE(FileExists(Dir().ClaimedIdPath()));

  // "After a restart" on a healed disk (the node's own threads stopped:
  // StateDir has one user at a time).
  node_.reset();
  fs_.Heal();
  absl::StatusOr<absl::optional<state::StoredClaim>> stored = Dir().ReadClaim();
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->claimed_id, claimed->claimed_id);
  EXPECT_EQ(ReadFileOrEmpty(Dir().ClaimedIdPath()), claimed->claimed_id);
}

// Reclaim over an existing claim when the new one cannot be stored: the
// error is clear, no file is a mix of old and new, the node answers.
TEST_P(NodeControllerDiskFaultTest, ReclaimThatCannotStoreLeavesNoMix) {
  http_.Respond(204);
  absl::StatusOr<ClaimOutcome> first = Node().Claim(Args());
  ASSERT_TRUE(first.ok()) << first.status();
  Arm({"/cloud.conf", "/claimed_id"});
  http_.Respond(204);
  absl::StatusOr<ReclaimOutcome> reclaimed =
      Node().Reclaim(/*new_identity=*/false, Args());
  ASSERT_FALSE(reclaimed.ok());
  ExpectStateWriteFailed(reclaimed.status());
  absl::StatusOr<absl::optional<state::StoredClaim>> stored = Dir().ReadClaim();
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_FALSE(stored->has_value());  // Reclaim unclaims first, by design
}

// RegenerateToken with update_claim_conf when claim.conf cannot be written
// after the cloud issued the token: the answer still carries the new token
// (the old one is revoked), with claim_conf_updated=false and
// CLAIM_CONF_WRITE_FAILED; claim.conf as it was, the claim untouched.
TEST_P(NodeControllerDiskFaultTest, ClaimConfUpdateFailureKeepsTheOldFile) {
  http_.Respond(204);
  ASSERT_TRUE(Node().Claim(Args()).ok());
  const std::string claim_conf_path = tmp_.Join("etc/claim.conf");
  const std::string old_conf =
      absl::StrCat("[global]\n  token = ", kToken, "\n  url = ", kUrl, "\n");
  ASSERT_TRUE(WriteFile(claim_conf_path, old_conf).ok());
  const std::map<std::string, std::string> before = CloudDirFiles();
  Arm({"/claim.conf"});
  http_.Respond(200, R"({"token":"new-claim-token-cmVnZW5lcmF0ZWQtNzc3Nw"})");
  RegenerateArgs args;
  args.space_id = "space-1";
  args.api_token = "api-token-YWRtaW4tc2VjcmV0LTk5OTk";
  args.update_claim_conf = true;
  absl::StatusOr<RegenerateOutcome> regenerated = Node().RegenerateToken(args);
  ASSERT_TRUE(regenerated.ok()) << regenerated.status();
  EXPECT_EQ(regenerated->token, "new-claim-token-cmVnZW5lcmF0ZWQtNzc3Nw");
  EXPECT_FALSE(regenerated->claim_conf_updated);
  EXPECT_THAT(regenerated->claim_conf_error,
              StartsWith("CLAIM_CONF_WRITE_FAILED: "));
  EXPECT_EQ(ReadFileOrEmpty(claim_conf_path), old_conf);
  EXPECT_EQ(CloudDirFiles(), before);
  EXPECT_TRUE(Node().GetState().first.claimed);
}

// The machine GUID cannot be created at start: the reason says so, and the
// API still answers.
TEST_P(NodeControllerDiskFaultTest, MachineGuidFailureIsAClearReason) {
  Arm({"/netdata.public.unique.id"});
  const NodeState state = Node().GetState().first;
  EXPECT_TRUE(state.machine_guid.empty());
  EXPECT_THAT(state.reason, StartsWith("STATE_WRITE_FAILED: "));
}

INSTANTIATE_TEST_SUITE_P(
    Faults, NodeControllerDiskFaultTest,
    ::testing::Values(DiskFault{"DiskFull", WriteStep::kWrite,
                                &FailingFileSystem::DiskFull},
                      DiskFault{"ReadOnly", WriteStep::kOpenTemp,
                                &FailingFileSystem::ReadOnly},
                      DiskFault{"RenameFails", WriteStep::kRename,
                                &FailingFileSystem::ReadOnly}),
    [](const ::testing::TestParamInfo<DiskFault>& info) {
      return std::string(info.param.name);
    });

}  // namespace
}  // namespace cloudlink::node
