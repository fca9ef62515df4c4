#include "server/config/environment.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace cloudlink::config {
namespace {

TEST(ProcessEnvironmentTest, SeesVariablesOfThisProcess) {
  // Only this test's own variable, set before reading.
  ASSERT_EQ(setenv("CLOUDLINK_CONFIG_ENV_TEST", "a=b c", 1), 0);
  Environment env = ProcessEnvironment();
  EXPECT_EQ(env["CLOUDLINK_CONFIG_ENV_TEST"], "a=b c");
  ASSERT_EQ(unsetenv("CLOUDLINK_CONFIG_ENV_TEST"), 0);
  EXPECT_EQ(ProcessEnvironment().count("CLOUDLINK_CONFIG_ENV_TEST"), 0u);
}

TEST(EnvValueTest, UnsetAndEmptyAreEmpty) {
  Environment env = {{"A", "1"}, {"EMPTY", ""}};
  EXPECT_EQ(EnvValue(env, "A"), "1");
  EXPECT_EQ(EnvValue(env, "EMPTY"), "");
  EXPECT_EQ(EnvValue(env, "MISSING"), "");
  EXPECT_EQ(EnvValue(env, "a"), "");  // names are case-sensitive
}

}  // namespace
}  // namespace cloudlink::config
