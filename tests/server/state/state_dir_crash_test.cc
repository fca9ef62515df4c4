// The state directory's crash safety: a write that stops at any step of any
// of its atomic writes (PosixFileSystem::BeforeStep), as a crash there would,
// leaves the old claim or the new one, never a mix, and the next write goes
// through.

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "gtest/gtest.h"
#include "server/config/cloud_conf.h"
#include "server/state/file_system.h"
#include "server/state/state_dir.h"
#include "tests/server/state/test_claim.h"
#include "tests/testing/test_env.h"

namespace cloudlink::state {
namespace {

using ::cloudlink::testing::ReadFileOrEmpty;
using ::cloudlink::testing::TempDir;

class StateDirCrashTest : public ::testing::Test {
 protected:
  PosixFileSystem fs_;
};

// Fails step `fail_step` of the `fail_write`-th WriteFileAtomic call (both
// 1-based; 0 never fails), as a crash there would: nothing after it happens.
class CrashingFileSystem : public PosixFileSystem {
 public:
  static constexpr int kSteps = 5;  // kOpenTemp .. kSyncDir

  CrashingFileSystem(int fail_write, int fail_step)
      : fail_write_(fail_write), fail_step_(fail_step) {}

  int writes() const { return writes_; }
  bool crashed() const { return crashed_; }

 protected:
  absl::Status BeforeStep(WriteStep step, const std::string& path) override {
    if (step == WriteStep::kOpenTemp) ++writes_;
    if (writes_ == fail_write_ && StepNumber(step) == fail_step_) {
      crashed_ = true;
      return absl::InternalError(absl::StrCat("injected crash before step ",
                                              fail_step_, " of ", path));
    }
    return absl::OkStatus();
  }

 private:
  static int StepNumber(WriteStep step) {
    switch (step) {
      case WriteStep::kOpenTemp:
        return 1;
      case WriteStep::kWrite:
        return 2;
      case WriteStep::kSync:
        return 3;
      case WriteStep::kRename:
        return 4;
      case WriteStep::kSyncDir:
        return 5;
      case WriteStep::kAppend:  // AppendableFile steps: not WriteFileAtomic's
      case WriteStep::kAppendSync:
      case WriteStep::kTruncate:
        return 0;
    }
    return 0;
  }

  const int fail_write_;
  const int fail_step_;
  int writes_ = 0;
  bool crashed_ = false;
};

TEST_F(StateDirCrashTest, WriteClaimCrashAtAnyPointLeavesOldOrNewClaim) {
  const config::CloudConf old_conf = MakeConf(kOldId, "old-token", {"a"});
  const config::CloudConf new_conf = MakeConf(kNewId, "new-token", {"b", "c"});

  // How many atomic writes a WriteClaim over an existing claim makes.
  int total_writes = 0;
  {
    TempDir tmp;
    StateDir plain(tmp.Join("lib"), &fs_);
    ASSERT_TRUE(plain.WriteClaim(old_conf).ok());
    CrashingFileSystem counting(0, 0);
    StateDir dir(tmp.Join("lib"), &counting);
    ASSERT_TRUE(dir.WriteClaim(new_conf).ok());
    total_writes = counting.writes();
  }
  ASSERT_GE(total_writes, 2);  // cloud.conf and claimed_id at least

  int saw_old = 0;
  int saw_new = 0;
  for (int write = 1; write <= total_writes; ++write) {
    for (int step = 1; step <= CrashingFileSystem::kSteps; ++step) {
      SCOPED_TRACE(absl::StrCat("crash at write ", write, " step ", step));
      TempDir tmp;
      const std::string lib = tmp.Join("lib");
      {
        StateDir plain(lib, &fs_);
        ASSERT_TRUE(plain.WriteClaim(old_conf).ok());
      }
      CrashingFileSystem crashing(write, step);
      StateDir dir(lib, &crashing);
      EXPECT_FALSE(dir.WriteClaim(new_conf).ok());
      ASSERT_TRUE(crashing.crashed());

      // "After the restart": a fresh StateDir on the real filesystem.
      StateDir after(lib, &fs_);
      absl::StatusOr<absl::optional<StoredClaim>> claim = after.ReadClaim();
      ASSERT_TRUE(claim.ok()) << claim.status();
      ASSERT_TRUE(claim->has_value());
      const StoredClaim& got = **claim;
      ASSERT_TRUE(got.has_cloud_conf);
      EXPECT_EQ(got.claimed_id, got.cloud_conf.claimed_id);
      const bool is_old = got.cloud_conf == old_conf;
      const bool is_new = got.cloud_conf == new_conf;
      EXPECT_TRUE(is_old || is_new)
          << "a mix: claimed_id " << got.claimed_id << " token "
          << (got.cloud_conf.token == "old-token" ? "old" : "new");
      saw_old += is_old;
      saw_new += is_new;
      // The files agree with each other after the read.
      EXPECT_EQ(ReadFileOrEmpty(after.ClaimedIdPath()), got.claimed_id);

      // And the next write goes through despite the leftover temp file.
      ASSERT_TRUE(after.WriteClaim(new_conf).ok());
      absl::StatusOr<absl::optional<StoredClaim>> rewritten =
          StateDir(lib, &fs_).ReadClaim();
      ASSERT_TRUE(rewritten.ok() && rewritten->has_value());
      EXPECT_EQ((*rewritten)->cloud_conf, new_conf);
    }
  }
  // Both outcomes occur: before the commit rename, and after it.
  EXPECT_GT(saw_old, 0);
  EXPECT_GT(saw_new, 0);
}

TEST_F(StateDirCrashTest, FirstClaimCrashLeavesUnclaimedOrClaimed) {
  const config::CloudConf conf = MakeConf(kNewId, "tok", {});
  for (int write = 1; write <= 2; ++write) {
    for (int step = 1; step <= CrashingFileSystem::kSteps; ++step) {
      SCOPED_TRACE(absl::StrCat("crash at write ", write, " step ", step));
      TempDir tmp;
      CrashingFileSystem crashing(write, step);
      StateDir dir(tmp.Join("lib"), &crashing);
      EXPECT_FALSE(dir.WriteClaim(conf).ok());
      absl::StatusOr<absl::optional<StoredClaim>> claim =
          StateDir(tmp.Join("lib"), &fs_).ReadClaim();
      ASSERT_TRUE(claim.ok()) << claim.status();
      if (claim->has_value()) {
        EXPECT_EQ((*claim)->cloud_conf, conf);
      }
    }
  }
}

}  // namespace
}  // namespace cloudlink::state
