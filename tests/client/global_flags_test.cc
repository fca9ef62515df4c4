#include "client/global_flags.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/flag_parser.h"
#include "gtest/gtest.h"

namespace cloudlink::client {
namespace {

// Whether ApplyGlobalFlag takes "--NAME=VALUE" as a global flag.
bool IsGlobal(const std::string& name) {
  const bool boolean = name == "json" || name == "help" || name == "version";
  const std::vector<std::string> args = {absl::StrCat("--", name, "=",
                                                      boolean ? "true"
                                                      : name == "timeout"
                                                          ? "5"
                                                          : "/some/value")};
  size_t index = 0;
  GlobalFlags flags;
  absl::StatusOr<bool> applied = ApplyGlobalFlag(args, &index, &flags);
  EXPECT_TRUE(applied.ok()) << name << ": " << applied.status();
  return applied.ok() && *applied;
}

// The command flag parser refuses a global flag as the value of a command's
// flag (flag_parser.h) by the names in kGlobalFlagNames; ApplyGlobalFlag is
// what makes them global. The two must name the same flags, or a global
// flag after "--token" would be taken as the token.
TEST(GlobalFlagsTest, TheParsersListOfGlobalFlagsIsExactlyTheGlobalFlags) {
  std::set<std::string> listed(std::begin(kGlobalFlagNames),
                               std::end(kGlobalFlagNames));
  for (const std::string& name : listed) {
    EXPECT_TRUE(IsGlobal(name)) << "--" << name << " is listed, not global";
  }
  // Every flag of the header's contract, and command flags that are not.
  for (const char* name :
       {"socket", "timeout", "target", "tls-cert",       "tls-key",
        "tls-ca", "json",    "help",   "version",        "token",
        "rooms",  "url",     "proxy",  "insecure",       "id",
        "topic",  "payload", "level",  "wait-when-full", "token-file"}) {
    EXPECT_EQ(IsGlobal(name), listed.count(name) == 1) << "--" << name;
  }
}

TEST(GlobalFlagsTest, ValuesAndErrors) {
  GlobalFlags flags;
  size_t index = 0;
  const std::vector<std::string> args = {"--socket", "unix:///run/x.sock",
                                         "--timeout=1m30s", "--json"};
  while (index < args.size()) {
    absl::StatusOr<bool> applied = ApplyGlobalFlag(args, &index, &flags);
    ASSERT_TRUE(applied.ok() && *applied) << args[index];
  }
  EXPECT_EQ(flags.socket, "/run/x.sock");
  EXPECT_EQ(flags.timeout, absl::Seconds(90));
  EXPECT_TRUE(flags.has_timeout);
  EXPECT_TRUE(flags.json);

  index = 0;
  absl::StatusOr<bool> missing = ApplyGlobalFlag({"--socket"}, &index, &flags);
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(index, 0u);
  index = 0;
  absl::StatusOr<bool> empty =
      ApplyGlobalFlag({"--socket=unix:"}, &index, &flags);
  EXPECT_FALSE(empty.ok());
}

}  // namespace
}  // namespace cloudlink::client
