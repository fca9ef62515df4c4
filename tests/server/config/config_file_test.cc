#include "server/config/config_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "server/common/error.h"
#include "tests/testing/test_env.h"

namespace cloudlink::config {
namespace {

TEST(ReadConfigFileTest, MissingIsEmptyNotError) {
  testing::TempDir dir;
  absl::StatusOr<absl::optional<std::string>> r =
      ReadConfigFile(dir.Join("claim.conf"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->has_value());
}

TEST(ReadConfigFileTest, ReadsContent) {
  testing::TempDir dir;
  ASSERT_TRUE(testing::WriteFile(dir.Join("c"), "[global]\n").ok());
  absl::StatusOr<absl::optional<std::string>> r = ReadConfigFile(dir.Join("c"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value(), "[global]\n");
}

TEST(ReadConfigFileTest, DirectoryIsUnreadable) {
  testing::TempDir dir;
  ASSERT_EQ(mkdir(dir.Join("claim.conf").c_str(), 0755), 0);
  absl::StatusOr<absl::optional<std::string>> r =
      ReadConfigFile(dir.Join("claim.conf"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(r.status()), "CONFIG_UNREADABLE");
  EXPECT_TRUE(absl::StrContains(r.status().message(), dir.Join("claim.conf")));
}

TEST(ReadConfigFileTest, TooLarge) {
  testing::TempDir dir;
  ASSERT_TRUE(testing::WriteFile(dir.Join("c"), std::string(101, 'x')).ok());
  absl::StatusOr<absl::optional<std::string>> r =
      ReadConfigFile(dir.Join("c"), 100);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "larger than 100"));
  EXPECT_TRUE(ReadConfigFile(dir.Join("c"), 101).ok());
}

TEST(ReadConfigFileTest, NoPermission) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  testing::TempDir dir;
  ASSERT_TRUE(testing::WriteFile(dir.Join("c"), "x").ok());
  ASSERT_EQ(chmod(dir.Join("c").c_str(), 0), 0);
  absl::StatusOr<absl::optional<std::string>> r = ReadConfigFile(dir.Join("c"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ReasonOf(r.status()), "CONFIG_UNREADABLE");
  EXPECT_TRUE(absl::StrContains(r.status().message(), "ermission denied"));
}

}  // namespace
}  // namespace cloudlink::config
