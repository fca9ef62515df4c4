#include <gtest/gtest.h>

#include <set>
#include <string>

#include "server/common/error.h"
#include "server/common/redact.h"
#include "server/common/uuid.h"

namespace cloudlink {
namespace {

TEST(ErrorTest, MessageStartsWithReason) {
  absl::Status s = Error(absl::StatusCode::kPermissionDenied, "TOKEN_INVALID",
                         "the cloud rejected the claim token");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "TOKEN_INVALID: the cloud rejected the claim token");
  EXPECT_EQ(ReasonOf(s), "TOKEN_INVALID");
}

TEST(ErrorTest, ReasonOfPlainMessageIsEmpty) {
  EXPECT_EQ(ReasonOf(absl::InternalError("no reason here")), "");
  EXPECT_EQ(ReasonOf(absl::InternalError("lower: case")), "");
  EXPECT_EQ(ReasonOf(absl::InternalError("NOCOLON")), "");
}

// Nothing of a secret shows: not its tail, its length, nor whether it is
// empty. (Tokens are 72 characters, API tokens 48, proxy passwords anything.)
TEST(RedactTest, SecretShowsNothingOfIt) {
  EXPECT_EQ(RedactSecret(""), "****");
  EXPECT_EQ(RedactSecret("short"), "****");
  EXPECT_EQ(RedactSecret("abcdefghijklmnop"), "****");
  EXPECT_EQ(RedactSecret(std::string(72, 't')), "****");
}

TEST(RedactTest, UrlPasswordIsHidden) {
  EXPECT_EQ(RedactUrlCredentials("http://bob:s3cret@proxy:3128"),
            "http://bob:****@proxy:3128");
  EXPECT_EQ(RedactUrlCredentials("socks5h://u:p@h:1080/x"),
            "socks5h://u:****@h:1080/x");
  EXPECT_EQ(RedactUrlCredentials("http://proxy:3128"), "http://proxy:3128");
  EXPECT_EQ(RedactUrlCredentials("env"), "env");
  // A user name alone is not a secret, but is marked so nothing is guessed.
  EXPECT_EQ(RedactUrlCredentials("http://bob@proxy"), "http://bob:****@proxy");
  // The user info ends at the last '@': an unencoded '@' or ':' in the
  // password shows nothing of it.
  EXPECT_EQ(RedactUrlCredentials("http://bob:p@ss:w@proxy:3128/"),
            "http://bob:****@proxy:3128/");
  EXPECT_EQ(RedactUrlCredentials("http://:s3cret@proxy"), "http://:****@proxy");
  EXPECT_EQ(RedactUrlCredentials("bob:s3cret@proxy:3128"),
            "bob:****@proxy:3128");
}

TEST(UuidTest, NewIsV4LowercaseAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string u = NewUuidV4();
    ASSERT_TRUE(IsUuid(u)) << u;
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b');
    EXPECT_EQ(u, LowercaseUuid(u));
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(UuidTest, RejectsMalformed) {
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("53aa76c2-8af5-448f-849a-b16872cc4ba"));
  EXPECT_FALSE(IsUuid("53aa76c2x8af5-448f-849a-b16872cc4ba1"));
  EXPECT_FALSE(IsUuid("53aa76c2-8af5-448f-849a-b16872cc4bag"));
  EXPECT_TRUE(IsUuid("53AA76C2-8AF5-448F-849A-B16872CC4BA1"));
}

}  // namespace
}  // namespace cloudlink
