#include "server/api/allowed_subjects.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "tests/testing/test_env.h"

namespace cloudlink::api {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(NormalizeDnTest, SpellingsOfOneNameAgree) {
  absl::StatusOr<std::string> rfc2253 =
      NormalizeDn("CN=ops,O=Example Corp,C=DE");
  ASSERT_TRUE(rfc2253.ok()) << rfc2253.status();
  for (const char* spelling :
       {"/C=DE/O=Example Corp/CN=ops", "C = DE, O = Example Corp, CN = ops",
        "cn=ops, o=Example Corp, c=DE", "  O=Example Corp+CN=ops;C=DE  "}) {
    absl::StatusOr<std::string> other = NormalizeDn(spelling);
    ASSERT_TRUE(other.ok()) << spelling << ": " << other.status();
    EXPECT_EQ(*other, *rfc2253) << spelling;
  }
}

TEST(NormalizeDnTest, EscapesAreUndone) {
  EXPECT_EQ(*NormalizeDn("CN=a\\,b,O=x"), "CN=a,b\nO=x");
  EXPECT_EQ(*NormalizeDn("CN=caf\\C3\\A9"), "CN=caf\xC3\xA9");
  EXPECT_EQ(*NormalizeDn("CN=x\\ "), "CN=x ");  // escaped space is kept
  EXPECT_EQ(*NormalizeDn("CN=a=b"), "CN=a=b");
}

TEST(NormalizeDnTest, ValuesAreCaseSensitive) {
  EXPECT_NE(*NormalizeDn("CN=Ops"), *NormalizeDn("CN=ops"));
}

TEST(NormalizeDnTest, RejectsMalformedNames) {
  EXPECT_FALSE(NormalizeDn("CN=a,justtext").ok());
  EXPECT_FALSE(NormalizeDn("=value").ok());
  EXPECT_FALSE(NormalizeDn("").ok());
}

TEST(AllowedSubjectsTest, RolesByDnAndCommonName) {
  absl::StatusOr<AllowedSubjects> subjects = AllowedSubjects::Parse(
      "# comment\n\n"
      "admin  /O=Example/CN=ops\n"
      "read\tCN=viewer,O=Example\n"
      "read dashboard\n"
      "admin dashboard-admin   \n",
      "f");
  ASSERT_TRUE(subjects.ok()) << subjects.status();
  EXPECT_EQ(subjects->size(), 4u);
  EXPECT_EQ(subjects->RoleOf("CN=ops,O=Example", "ops"), SubjectRole::kAdmin);
  EXPECT_EQ(subjects->RoleOf("CN=viewer,O=Example", "viewer"),
            SubjectRole::kRead);
  EXPECT_EQ(subjects->RoleOf("CN=dashboard,O=Any", "dashboard"),
            SubjectRole::kRead);
  EXPECT_EQ(subjects->RoleOf("CN=dashboard-admin", "dashboard-admin"),
            SubjectRole::kAdmin);
  EXPECT_EQ(subjects->RoleOf("CN=ops,O=Other", "ops"), SubjectRole::kNone);
  EXPECT_EQ(subjects->RoleOf("CN=ops", "ops"), SubjectRole::kNone);
  EXPECT_EQ(subjects->RoleOf("", ""), SubjectRole::kNone);
}

TEST(AllowedSubjectsTest, PublishRoleSitsBetweenReadAndAdmin) {
  absl::StatusOr<AllowedSubjects> subjects = AllowedSubjects::Parse(
      "publish producer\nread CN=producer\npublish CN=ops,O=Example\n"
      "admin ops\n",
      "f");
  ASSERT_TRUE(subjects.ok()) << subjects.status();
  EXPECT_EQ(subjects->RoleOf("CN=producer", "producer"), SubjectRole::kPublish);
  EXPECT_EQ(subjects->RoleOf("CN=ops,O=Example", "ops"), SubjectRole::kAdmin);
}

TEST(AllowedSubjectsTest, HighestMatchingRoleWins) {
  absl::StatusOr<AllowedSubjects> subjects =
      AllowedSubjects::Parse("read ops\nadmin CN=ops,O=Example\n", "f");
  ASSERT_TRUE(subjects.ok());
  EXPECT_EQ(subjects->RoleOf("CN=ops,O=Example", "ops"), SubjectRole::kAdmin);
  EXPECT_EQ(subjects->RoleOf("CN=ops,O=Other", "ops"), SubjectRole::kRead);
}

TEST(AllowedSubjectsTest, ErrorsNameFileAndLine) {
  struct {
    const char* text;
    const char* expected;
  } cases[] = {
      {"admin CN=a\nwrite CN=b\n", "f line 2: the role must be admin or read"},
      {"read\n", "f line 1: read needs a certificate subject"},
      {"admin CN=a,junk\n", "f line 1:"},
      {"admin CN=a,O=b\nread O=b, CN=a\n",
       "f line 2: \"O=b, CN=a\" is already listed on line 1"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<AllowedSubjects> subjects =
        AllowedSubjects::Parse(c.text, "f");
    ASSERT_FALSE(subjects.ok()) << c.text;
    EXPECT_EQ(subjects.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(subjects.status()), "TLS_SUBJECTS_INVALID");
    EXPECT_THAT(std::string(subjects.status().message()),
                HasSubstr(c.expected));
  }
}

TEST(AllowedSubjectsTest, LoadReadsTheFileOrSaysItCannot) {
  testing::TempDir dir;
  const std::string path = dir.Join("subjects");
  ASSERT_TRUE(testing::WriteFile(path, "admin ops\n").ok());
  absl::StatusOr<AllowedSubjects> loaded = AllowedSubjects::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->RoleOf("CN=ops", "ops"), SubjectRole::kAdmin);

  absl::StatusOr<AllowedSubjects> missing =
      AllowedSubjects::Load(dir.Join("missing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              AllOf(HasSubstr("TLS_SUBJECTS_UNREADABLE"),
                    HasSubstr(dir.Join("missing"))));
}

}  // namespace
}  // namespace cloudlink::api
