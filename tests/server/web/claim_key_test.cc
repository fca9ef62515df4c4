// ClaimKey: a UUID file of mode 0640, matched in either case, replaced on
// Rotate even when the file cannot be written.

#include "server/web/claim_key.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/common/error.h"
#include "server/common/uuid.h"
#include "server/state/file_system.h"
#include "tests/testing/test_env.h"

namespace cloudlink::web {
namespace {

std::string FileKey(const std::string& path) {
  std::string k = testing::ReadFileOrEmpty(path);
  EXPECT_EQ(k.back(), '\n');
  k.pop_back();
  return k;
}

TEST(ClaimKeyTest, WritesAUuidReadableByOwnerAndGroupOnly) {
  testing::TempDir dir;
  auto key = ClaimKey::Create(state::DefaultFileSystem(),
                              dir.Join(kClaimKeyFileName), getgid());
  ASSERT_TRUE(key.ok()) << key.status();
  const std::string text = FileKey((*key)->path());
  EXPECT_TRUE(IsUuid(text));
  struct stat st;
  ASSERT_EQ(stat((*key)->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(st.st_gid, getgid());
  EXPECT_TRUE((*key)->Matches(text));
  std::string upper = text;
  for (char& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_TRUE((*key)->Matches(upper));
  EXPECT_FALSE((*key)->Matches(""));
  EXPECT_FALSE((*key)->Matches(text + "0"));
  EXPECT_FALSE((*key)->Matches("00000000-0000-4000-8000-000000000000"));
}

TEST(ClaimKeyTest, RotateReplacesTheKey) {
  testing::TempDir dir;
  auto key = ClaimKey::Create(state::DefaultFileSystem(),
                              dir.Join(kClaimKeyFileName), getgid());
  ASSERT_TRUE(key.ok());
  const std::string first = FileKey((*key)->path());
  ASSERT_TRUE((*key)->Rotate().ok());
  const std::string second = FileKey((*key)->path());
  EXPECT_NE(first, second);
  EXPECT_FALSE((*key)->Matches(first));
  EXPECT_TRUE((*key)->Matches(second));
}

TEST(ClaimKeyTest, UnwritableFileFailsButTheOldKeyStopsWorking) {
  testing::TempDir dir;
  const std::string path = dir.Join("sub/" + std::string(kClaimKeyFileName));
  EXPECT_TRUE(HasReason(
      ClaimKey::Create(state::DefaultFileSystem(), path, getgid()).status(),
      reason::kClaimKeyWriteFailed));

  auto key = ClaimKey::Create(state::DefaultFileSystem(),
                              dir.Join(kClaimKeyFileName), getgid());
  ASSERT_TRUE(key.ok());
  const std::string first = FileKey((*key)->path());
  ASSERT_EQ(chmod(dir.path().c_str(), 0500), 0);
  absl::Status rotated = (*key)->Rotate();
  chmod(dir.path().c_str(), 0700);
  if (geteuid() != 0) {  // root writes anyway
    EXPECT_TRUE(HasReason(rotated, reason::kClaimKeyWriteFailed)) << rotated;
  }
  EXPECT_FALSE((*key)->Matches(first));
}

// Attempts made at the same time with the one valid key: exactly one
// matches, as checking and replacing the key is one step.
TEST(ClaimKeyTest, ConcurrentAttemptsWithOneKeyMatchOnce) {
  testing::TempDir dir;
  auto key = ClaimKey::Create(state::DefaultFileSystem(),
                              dir.Join(kClaimKeyFileName), getgid());
  ASSERT_TRUE(key.ok()) << key.status();
  const std::string valid = FileKey((*key)->path());
  std::atomic<int> matched{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> attempts;
  for (int i = 0; i < 8; ++i) {
    attempts.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      absl::Status rotated;
      if ((*key)->Spend(valid, &rotated)) ++matched;
      EXPECT_TRUE(rotated.ok()) << rotated;
    });
  }
  go.store(true);
  for (std::thread& t : attempts) t.join();
  EXPECT_EQ(matched.load(), 1);
  EXPECT_FALSE((*key)->Matches(valid));
}

}  // namespace
}  // namespace cloudlink::web
