#include "server/state/state_dir.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "server/common/uuid.h"
#include "server/config/cloud_conf.h"
#include "server/state/file_system.h"
#include "tests/server/state/test_claim.h"
#include "tests/testing/test_env.h"

namespace cloudlink::state {
namespace {

using ::cloudlink::testing::FileExists;
using ::cloudlink::testing::FileMode;
using ::cloudlink::testing::ReadFileOrEmpty;
using ::cloudlink::testing::TempDir;
using ::cloudlink::testing::WriteFile;
using ::testing::HasSubstr;

// Sets the process umask for the lifetime of the object.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(umask(mask)) {}
  ~ScopedUmask() { umask(old_); }

 private:
  mode_t old_;
};

bool IsLowercaseUuidV4(const std::string& text) {
  if (!IsUuid(text) || text != LowercaseUuid(text)) return false;
  return text[14] == '4' &&
         std::string("89ab").find(text[19]) != std::string::npos;
}

class StateDirTest : public ::testing::Test {
 protected:
  std::string Lib() const { return tmp_.Join("lib"); }
  StateDir NewStateDir() { return StateDir(Lib(), &fs_); }
  void WriteCloudDirFile(const std::string& name, const std::string& content) {
    ASSERT_TRUE(fs_.MakeDirs(Lib() + "/cloud.d", 0700).ok());
    ASSERT_TRUE(WriteFile(Lib() + "/cloud.d/" + name, content).ok());
  }

  TempDir tmp_;
  PosixFileSystem fs_;
};

// --- machine GUID ---

TEST_F(StateDirTest, CreatesLowercaseUuidV4GuidWithMode0644) {
  ScopedUmask mask(077);  // the mode must not depend on the umask
  StateDir dir = NewStateDir();
  absl::StatusOr<std::string> guid = dir.LoadOrCreateMachineGuid();
  ASSERT_TRUE(guid.ok()) << guid.status();
  EXPECT_TRUE(IsLowercaseUuidV4(*guid)) << *guid;
  EXPECT_EQ(ReadFileOrEmpty(dir.MachineGuidPath()), *guid);
  EXPECT_EQ(FileMode(dir.MachineGuidPath()), 0644);
  EXPECT_EQ(dir.MachineGuidPath(),
            Lib() + "/registry/netdata.public.unique.id");
}

TEST_F(StateDirTest, GuidPersistsAcrossInstances) {
  std::string first;
  {
    StateDir dir = NewStateDir();
    absl::StatusOr<std::string> guid = dir.LoadOrCreateMachineGuid();
    ASSERT_TRUE(guid.ok()) << guid.status();
    first = *guid;
  }
  StateDir again = NewStateDir();
  absl::StatusOr<std::string> guid = again.LoadOrCreateMachineGuid();
  ASSERT_TRUE(guid.ok()) << guid.status();
  EXPECT_EQ(*guid, first);
}

TEST_F(StateDirTest, GuidFileWithUppercaseAndNewlineIsReadAsLowercase) {
  StateDir dir = NewStateDir();
  ASSERT_TRUE(fs_.MakeDirs(Lib() + "/registry", 0755).ok());
  const std::string content = "0B2A1C1E-1D2E-4F00-8A6B-2D1C9E8F7A6B\n";
  ASSERT_TRUE(WriteFile(dir.MachineGuidPath(), content).ok());
  absl::StatusOr<std::string> guid = dir.LoadOrCreateMachineGuid();
  ASSERT_TRUE(guid.ok()) << guid.status();
  EXPECT_EQ(*guid, kGuid);
  EXPECT_EQ(ReadFileOrEmpty(dir.MachineGuidPath()), content);  // not rewritten
}

TEST_F(StateDirTest, InvalidGuidFileIsReportedAndLeftUntouched) {
  StateDir dir = NewStateDir();
  ASSERT_TRUE(fs_.MakeDirs(Lib() + "/registry", 0755).ok());
  const std::string content = "not-a-uuid-at-all\n";
  ASSERT_TRUE(WriteFile(dir.MachineGuidPath(), content).ok());
  for (int i = 0; i < 2; ++i) {  // a second call must not "fix" it either
    absl::StatusOr<std::string> guid = dir.LoadOrCreateMachineGuid();
    ASSERT_FALSE(guid.ok());
    EXPECT_EQ(guid.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(ReasonOf(guid.status()), "MACHINE_GUID_INVALID");
    EXPECT_THAT(std::string(guid.status().message()),
                HasSubstr(dir.MachineGuidPath()));
  }
  EXPECT_EQ(ReadFileOrEmpty(dir.MachineGuidPath()), content);
}

TEST_F(StateDirTest, UnreadableGuidFileIsReportedAndLeftUntouched) {
  // A directory where the file should be: open() works, read() fails, even
  // for root (for whom mode 000 would not stop a read).
  StateDir dir = NewStateDir();
  ASSERT_TRUE(fs_.MakeDirs(dir.MachineGuidPath(), 0755).ok());
  absl::StatusOr<std::string> guid = dir.LoadOrCreateMachineGuid();
  ASSERT_FALSE(guid.ok());
  EXPECT_EQ(ReasonOf(guid.status()), "MACHINE_GUID_INVALID");
  struct stat st;
  ASSERT_EQ(stat(dir.MachineGuidPath().c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

// The registry directory cannot be made: STATE_WRITE_FAILED naming the
// absolute directory and the fix, not a bare "mkdir ...: ..." without a
// reason.
TEST_F(StateDirTest, UncreatableRegistryDirSaysWhereAndHowToFix) {
  // mkdir refused as on a lib dir the daemon's user cannot write.
  class NoMkdir : public PosixFileSystem {
   public:
    absl::Status MakeDirs(const std::string& path, mode_t) override {
      return absl::PermissionDeniedError("mkdir " + path +
                                         ": Permission denied");
    }
  } no_mkdir;
  StateDir dir(Lib(), &no_mkdir);
  absl::StatusOr<std::string> guid = dir.LoadOrCreateMachineGuid();
  ASSERT_FALSE(guid.ok());
  EXPECT_EQ(ReasonOf(guid.status()), "STATE_WRITE_FAILED");
  const std::string message(guid.status().message());
  EXPECT_THAT(message, HasSubstr("cannot create " + Lib() + "/registry"));
  EXPECT_THAT(message, HasSubstr("writable by cloudlinkd"));
  EXPECT_THAT(message, HasSubstr("reload-claiming-state"));
}

TEST_F(StateDirTest, NodeIdIsEmptyUntilStoredThenReadBack) {
  StateDir dir = NewStateDir();
  absl::StatusOr<std::string> none = dir.ReadNodeId();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, "");
  ASSERT_TRUE(dir.WriteNodeId("7d3f2a9e-1b2c-8d4e-9f00-112233445566").ok());
  EXPECT_EQ(*dir.ReadNodeId(), "7d3f2a9e-1b2c-8d4e-9f00-112233445566");
  struct stat st;
  ASSERT_EQ(stat(dir.NodeIdPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  // Removing cloud.d (a reclaim) forgets it.
  ASSERT_TRUE(dir.RemoveCloudDir().ok());
  EXPECT_EQ(*dir.ReadNodeId(), "");
}

TEST_F(StateDirTest, NodeIdThatIsNotOneIsRefusedBothWays) {
  StateDir dir = NewStateDir();
  for (const char* bad : {"", "has space", "../etc", "a\nb"}) {
    absl::Status written = dir.WriteNodeId(bad);
    EXPECT_FALSE(written.ok()) << bad;
  }
  EXPECT_FALSE(dir.WriteNodeId(std::string(65, 'a')).ok());
  ASSERT_TRUE(fs_.MakeDirs(Lib() + "/cloud.d", 0700).ok());
  ASSERT_TRUE(fs_.WriteFileAtomic(dir.NodeIdPath(), "<script>\n", 0644).ok());
  absl::StatusOr<std::string> read = dir.ReadNodeId();
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(ReasonOf(read.status()), "STATE_INVALID");
}

TEST_F(StateDirTest, ReplaceMachineGuidWritesANewOne) {
  StateDir dir = NewStateDir();
  absl::StatusOr<std::string> old_guid = dir.LoadOrCreateMachineGuid();
  ASSERT_TRUE(old_guid.ok()) << old_guid.status();
  absl::StatusOr<std::string> new_guid = dir.ReplaceMachineGuid();
  ASSERT_TRUE(new_guid.ok()) << new_guid.status();
  EXPECT_NE(*new_guid, *old_guid);
  EXPECT_TRUE(IsLowercaseUuidV4(*new_guid));
  EXPECT_EQ(FileMode(dir.MachineGuidPath()), 0644);
  absl::StatusOr<std::string> loaded = NewStateDir().LoadOrCreateMachineGuid();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, *new_guid);
}

TEST_F(StateDirTest, ReplaceMachineGuidRepairsAnInvalidFile) {
  StateDir dir = NewStateDir();
  ASSERT_TRUE(fs_.MakeDirs(Lib() + "/registry", 0755).ok());
  ASSERT_TRUE(WriteFile(dir.MachineGuidPath(), "garbage").ok());
  absl::StatusOr<std::string> replaced = dir.ReplaceMachineGuid();
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  absl::StatusOr<std::string> loaded = dir.LoadOrCreateMachineGuid();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, *replaced);
}

// --- ReadClaim ---

TEST_F(StateDirTest, ReadClaimWithNothingIsUnclaimed) {
  StateDir dir = NewStateDir();
  absl::StatusOr<absl::optional<StoredClaim>> claim = dir.ReadClaim();
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_FALSE(claim->has_value());
  // An empty cloud.d (e.g. only a key pair) is unclaimed too.
  ASSERT_TRUE(dir.EnsureCloudDir().ok());
  WriteCloudDirFile("public.pem", "x");
  claim = dir.ReadClaim();
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_FALSE(claim->has_value());
}

TEST_F(StateDirTest, ReadClaimWithCloudConfAndClaimedId) {
  StateDir dir = NewStateDir();
  const config::CloudConf conf = MakeConf(kNewId, "tok-1", {"r1", "r2"});
  ASSERT_TRUE(dir.WriteClaim(conf).ok());
  absl::StatusOr<absl::optional<StoredClaim>> claim = NewStateDir().ReadClaim();
  ASSERT_TRUE(claim.ok()) << claim.status();
  ASSERT_TRUE(claim->has_value());
  EXPECT_EQ((*claim)->claimed_id, kNewId);
  EXPECT_TRUE((*claim)->has_cloud_conf);
  EXPECT_EQ((*claim)->cloud_conf, conf);
  EXPECT_EQ(ReadFileOrEmpty(dir.ClaimedIdPath()), kNewId);  // no newline
}

TEST_F(StateDirTest, ReadClaimWithClaimedIdOnly) {
  StateDir dir = NewStateDir();
  WriteCloudDirFile("claimed_id", "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE\n");
  absl::StatusOr<absl::optional<StoredClaim>> claim = dir.ReadClaim();
  ASSERT_TRUE(claim.ok()) << claim.status();
  ASSERT_TRUE(claim->has_value());
  EXPECT_EQ((*claim)->claimed_id, kNewId);
  EXPECT_FALSE((*claim)->has_cloud_conf);
  EXPECT_EQ((*claim)->cloud_conf.claimed_id, kNewId);
  EXPECT_TRUE((*claim)->cloud_conf.token.empty());
}

TEST_F(StateDirTest, MismatchedClaimedIdIsRepairedFromCloudConf) {
  StateDir dir = NewStateDir();
  ASSERT_TRUE(dir.WriteClaim(MakeConf(kNewId, "tok", {})).ok());
  ASSERT_TRUE(WriteFile(dir.ClaimedIdPath(), kOldId).ok());
  ASSERT_EQ(chmod(dir.ClaimedIdPath().c_str(), 0600), 0);

  absl::StatusOr<absl::optional<StoredClaim>> claim = dir.ReadClaim();
  ASSERT_TRUE(claim.ok()) << claim.status();
  ASSERT_TRUE(claim->has_value());
  EXPECT_EQ((*claim)->claimed_id, kNewId);
  EXPECT_EQ(ReadFileOrEmpty(dir.ClaimedIdPath()), kNewId);
  EXPECT_EQ(FileMode(dir.ClaimedIdPath()), 0644);
}

TEST_F(StateDirTest, MissingOrGarbageClaimedIdIsRepairedFromCloudConf) {
  StateDir dir = NewStateDir();
  ASSERT_TRUE(dir.WriteClaim(MakeConf(kNewId, "tok", {})).ok());
  for (const char* damage : {"", "garbage"}) {
    SCOPED_TRACE(damage);
    if (*damage == '\0') {
      ASSERT_EQ(unlink(dir.ClaimedIdPath().c_str()), 0);
    } else {
      ASSERT_TRUE(WriteFile(dir.ClaimedIdPath(), damage).ok());
    }
    absl::StatusOr<absl::optional<StoredClaim>> claim = dir.ReadClaim();
    ASSERT_TRUE(claim.ok()) << claim.status();
    ASSERT_TRUE(claim->has_value());
    EXPECT_EQ((*claim)->claimed_id, kNewId);
    EXPECT_EQ(ReadFileOrEmpty(dir.ClaimedIdPath()), kNewId);
  }
}

TEST_F(StateDirTest, InvalidFilesAreStateInvalidAndNothingIsDeleted) {
  struct Case {
    const char* name;
    const char* cloud_conf;  // nullptr: absent
    const char* claimed_id;  // nullptr: absent
  };
  const Case cases[] = {
      {"claimed_id not a uuid", nullptr, "not-a-uuid"},
      {"claimed_id empty", nullptr, ""},
      {"cloud.conf bad boolean", "[global]\n  insecure = maybe\n", kNewId},
      {"cloud.conf without claimed_id", "[global]\n  url = https://x.example\n",
       kNewId},
      {"cloud.conf claimed_id not a uuid", "[global]\n  claimed_id = 1234\n",
       kNewId},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir tmp;
    StateDir dir(tmp.Join("lib"), &fs_);
    ASSERT_TRUE(dir.EnsureCloudDir().ok());
    if (c.cloud_conf != nullptr) {
      ASSERT_TRUE(WriteFile(dir.CloudConfPath(), c.cloud_conf).ok());
    }
    if (c.claimed_id != nullptr) {
      ASSERT_TRUE(WriteFile(dir.ClaimedIdPath(), c.claimed_id).ok());
    }
    absl::StatusOr<absl::optional<StoredClaim>> claim = dir.ReadClaim();
    ASSERT_FALSE(claim.ok());
    EXPECT_EQ(ReasonOf(claim.status()), "STATE_INVALID");
    EXPECT_EQ(claim.status().code(), absl::StatusCode::kFailedPrecondition);
    if (c.cloud_conf != nullptr) {
      EXPECT_EQ(ReadFileOrEmpty(dir.CloudConfPath()), c.cloud_conf);
    }
    if (c.claimed_id != nullptr) {
      EXPECT_EQ(ReadFileOrEmpty(dir.ClaimedIdPath()), c.claimed_id);
    }
  }
}

TEST_F(StateDirTest, CloudConfWithDuplicateKeyIsStateInvalid) {
  StateDir dir = NewStateDir();
  ASSERT_TRUE(dir.EnsureCloudDir().ok());
  const std::string text = absl::StrCat("[global]\n  claimed_id = ", kNewId,
                                        "\n  claimed_id = ", kOldId, "\n");
  ASSERT_TRUE(WriteFile(dir.CloudConfPath(), text).ok());
  absl::StatusOr<absl::optional<StoredClaim>> claim = dir.ReadClaim();
  ASSERT_FALSE(claim.ok());
  EXPECT_EQ(ReasonOf(claim.status()), "STATE_INVALID");
  EXPECT_EQ(ReadFileOrEmpty(dir.CloudConfPath()), text);
}

TEST_F(StateDirTest, UnreadableClaimFilesAreStateInvalid) {
  for (bool conf_broken : {true, false}) {
    SCOPED_TRACE(conf_broken ? "cloud.conf" : "claimed_id");
    TempDir tmp;
    StateDir dir(tmp.Join("lib"), &fs_);
    ASSERT_TRUE(dir.EnsureCloudDir().ok());
    const std::string broken =
        conf_broken ? dir.CloudConfPath() : dir.ClaimedIdPath();
    ASSERT_EQ(mkdir(broken.c_str(), 0700), 0);  // read() fails, even as root
    absl::StatusOr<absl::optional<StoredClaim>> claim = dir.ReadClaim();
    ASSERT_FALSE(claim.ok());
    EXPECT_EQ(ReasonOf(claim.status()), "STATE_INVALID");
    EXPECT_THAT(std::string(claim.status().message()), HasSubstr(broken));
    EXPECT_TRUE(FileExists(broken));
  }
}

TEST_F(StateDirTest, CloudConfErrorsNeverQuoteTheToken) {
  StateDir dir = NewStateDir();
  ASSERT_TRUE(dir.EnsureCloudDir().ok());
  const std::string token = "secret-token-Zm9vYmFyYmF6cXV4";
  ASSERT_TRUE(
      WriteFile(dir.CloudConfPath(), absl::StrCat("[global]\n  token = ", token,
                                                  "\n  token = ", token, "\n"))
          .ok());
  absl::StatusOr<absl::optional<StoredClaim>> claim = dir.ReadClaim();
  ASSERT_FALSE(claim.ok());
  EXPECT_THAT(std::string(claim.status().message()),
              ::testing::Not(HasSubstr(token)));
}

// --- WriteClaim ---

TEST_F(StateDirTest, WriteClaimWithoutClaimedIdIsRefused) {
  StateDir dir = NewStateDir();
  EXPECT_FALSE(dir.WriteClaim(MakeConf("", "tok", {})).ok());
  EXPECT_FALSE(FileExists(dir.CloudConfPath()));
}

TEST_F(StateDirTest, WriteClaimModesDoNotDependOnTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{077}}) {
    SCOPED_TRACE(absl::StrCat("umask 0", mask == 0 ? "" : "77"));
    TempDir tmp;
    StateDir dir(tmp.Join("lib"), &fs_);
    {
      ScopedUmask scoped(mask);
      ASSERT_TRUE(dir.WriteClaim(MakeConf(kNewId, "tok", {"r"})).ok());
      absl::StatusOr<std::string> guid = dir.LoadOrCreateMachineGuid();
      ASSERT_TRUE(guid.ok());
    }
    EXPECT_EQ(FileMode(dir.CloudDir()), 0700);
    EXPECT_EQ(FileMode(dir.CloudConfPath()), 0600);
    EXPECT_EQ(FileMode(dir.ClaimedIdPath()), 0644);
    EXPECT_EQ(FileMode(dir.MachineGuidPath()), 0644);
  }
}

TEST_F(StateDirTest, WriteClaimReplacesAnExistingClaim) {
  StateDir dir = NewStateDir();
  ASSERT_TRUE(dir.WriteClaim(MakeConf(kOldId, "old", {"a"})).ok());
  const config::CloudConf next = MakeConf(kNewId, "new", {"b", "c"});
  ASSERT_TRUE(dir.WriteClaim(next).ok());
  absl::StatusOr<absl::optional<StoredClaim>> claim = NewStateDir().ReadClaim();
  ASSERT_TRUE(claim.ok() && claim->has_value());
  EXPECT_EQ((*claim)->cloud_conf, next);
  EXPECT_FALSE(FileExists(dir.CloudConfPath() + ".tmp"));
  EXPECT_FALSE(FileExists(dir.ClaimedIdPath() + ".tmp"));
}

TEST_F(StateDirTest, RemoveCloudDirUnclaims) {
  StateDir dir = NewStateDir();
  ASSERT_TRUE(dir.WriteClaim(MakeConf(kOldId, "old", {})).ok());
  ASSERT_TRUE(dir.RemoveCloudDir().ok());
  EXPECT_FALSE(FileExists(dir.CloudDir()));
  absl::StatusOr<absl::optional<StoredClaim>> claim = dir.ReadClaim();
  ASSERT_TRUE(claim.ok());
  EXPECT_FALSE(claim->has_value());
  EXPECT_TRUE(dir.RemoveCloudDir().ok());  // idempotent
}

}  // namespace
}  // namespace cloudlink::state
