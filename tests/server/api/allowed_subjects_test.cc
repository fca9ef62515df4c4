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

DistinguishedName Dn(absl::string_view text) {
  absl::StatusOr<DistinguishedName> dn = DistinguishedName::Parse(text);
  EXPECT_TRUE(dn.ok()) << text << ": " << dn.status();
  return *dn;
}

// The role of a certificate whose subject prints as `subject_dn`; kNone when
// it does not parse.
SubjectRole RoleOf(const AllowedSubjects& subjects,
                   absl::string_view subject_dn) {
  absl::StatusOr<DistinguishedName> dn = DistinguishedName::Parse(subject_dn);
  return dn.ok() ? subjects.RoleOf(*dn) : SubjectRole::kNone;
}

// The one attribute of a single-valued, single-RDN name.
NameAttribute Only(absl::string_view text) {
  DistinguishedName dn = Dn(text);
  EXPECT_EQ(dn.rdns().size(), 1u) << text;
  EXPECT_EQ(dn.rdns()[0].size(), 1u) << text;
  return dn.rdns()[0][0];
}

TEST(DistinguishedNameTest, SpellingsOfOneNameAgree) {
  const DistinguishedName rfc2253 = Dn("CN=ops,O=Example Corp,C=DE");
  for (const char* spelling :
       {"/C=DE/O=Example Corp/CN=ops", "C = DE, O = Example Corp, CN = ops",
        "cn=ops, o=Example Corp, c=DE", "  O=Example Corp,CN=ops;C=DE  ",
        "commonName=ops,organizationName=Example Corp,2.5.4.6=DE"}) {
    EXPECT_TRUE(Dn(spelling) == rfc2253) << spelling;
  }
  EXPECT_EQ(rfc2253.ToString(), "CN=ops,O=Example Corp,C=DE");
}

TEST(DistinguishedNameTest, EscapesAreUndone) {
  DistinguishedName two = Dn("CN=a\\,b,O=x");
  ASSERT_EQ(two.rdns().size(), 2u);
  EXPECT_EQ(two.rdns()[1][0].value, "a,b");
  EXPECT_EQ(Only("CN=caf\\C3\\A9").value, "caf\xC3\xA9");
  EXPECT_EQ(Only("CN=x\\ ").value, "x ");  // escaped space is kept
  EXPECT_EQ(Only("CN=a=b").value, "a=b");
  EXPECT_EQ(Only("CN=a=b").type, "CN");
}

TEST(DistinguishedNameTest, ValuesAreCaseSensitive) {
  EXPECT_FALSE(Dn("CN=Ops") == Dn("CN=ops"));
}

TEST(DistinguishedNameTest, RejectsMalformedNames) {
  EXPECT_FALSE(DistinguishedName::Parse("CN=a,justtext").ok());
  EXPECT_FALSE(DistinguishedName::Parse("=value").ok());
  EXPECT_FALSE(DistinguishedName::Parse("").ok());
}

TEST(DistinguishedNameTest, AMultiValuedRdnIsNotTwoRdns) {
  const DistinguishedName multi = Dn("CN=ops+O=Example");
  ASSERT_EQ(multi.rdns().size(), 1u);
  EXPECT_EQ(multi.rdns()[0].size(), 2u);
  EXPECT_FALSE(multi == Dn("CN=ops,O=Example"));
  EXPECT_TRUE(multi == Dn("O=Example+CN=ops"));  // attribute order
  EXPECT_EQ(multi.ToString(), "CN=ops+O=Example");
}

TEST(DistinguishedNameTest, AnEmbeddedNewlineIsAValueNotASeparator) {
  // The names a CA might sign on request: one RDN whose value holds what
  // looks like another attribute.
  const DistinguishedName crafted = Dn("CN=ops\\0AO=Example");
  ASSERT_EQ(crafted.rdns().size(), 1u);
  EXPECT_EQ(crafted.rdns()[0][0].value, "ops\nO=Example");
  EXPECT_TRUE(crafted.HasControlCharacter());
  EXPECT_FALSE(crafted == Dn("CN=ops,O=Example"));
  // Shown escaped: a log line cannot be split or forged.
  EXPECT_EQ(crafted.ToString(), "CN=ops\\0AO=Example");
  EXPECT_EQ(Dn("CN=a\\7F\\C2\\85").ToString(), "CN=a\\7F\\C2\\85");
  EXPECT_TRUE(Dn("CN=a\\C2\\85").HasControlCharacter());  // C1 NEL
  EXPECT_FALSE(Dn("CN=caf\\C3\\A9").HasControlCharacter());
}

TEST(DistinguishedNameTest, CommonNameIsTheOnlyCn) {
  EXPECT_EQ(Dn("CN=a,O=b").CommonName(), "a");
  EXPECT_EQ(Dn("O=b").CommonName(), absl::nullopt);
  EXPECT_EQ(Dn("CN=a,CN=b").CommonName(), absl::nullopt);
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
  EXPECT_EQ(RoleOf(*subjects, "CN=ops,O=Example"), SubjectRole::kAdmin);
  EXPECT_EQ(RoleOf(*subjects, "CN=viewer,O=Example"), SubjectRole::kRead);
  EXPECT_EQ(RoleOf(*subjects, "CN=dashboard,O=Any"), SubjectRole::kRead);
  EXPECT_EQ(RoleOf(*subjects, "CN=dashboard-admin"), SubjectRole::kAdmin);
  EXPECT_EQ(RoleOf(*subjects, "CN=ops,O=Other"), SubjectRole::kNone);
  EXPECT_EQ(RoleOf(*subjects, "CN=ops"), SubjectRole::kNone);
  EXPECT_EQ(RoleOf(*subjects, ""), SubjectRole::kNone);
}

TEST(AllowedSubjectsTest, PublishRoleSitsBetweenReadAndAdmin) {
  absl::StatusOr<AllowedSubjects> subjects = AllowedSubjects::Parse(
      "publish producer\nread CN=producer\npublish CN=ops,O=Example\n"
      "admin ops\n",
      "f");
  ASSERT_TRUE(subjects.ok()) << subjects.status();
  EXPECT_EQ(RoleOf(*subjects, "CN=producer"), SubjectRole::kPublish);
  EXPECT_EQ(RoleOf(*subjects, "CN=ops,O=Example"), SubjectRole::kAdmin);
}

TEST(AllowedSubjectsTest, HighestMatchingRoleWins) {
  absl::StatusOr<AllowedSubjects> subjects =
      AllowedSubjects::Parse("read ops\nadmin CN=ops,O=Example\n", "f");
  ASSERT_TRUE(subjects.ok());
  EXPECT_EQ(RoleOf(*subjects, "CN=ops,O=Example"), SubjectRole::kAdmin);
  EXPECT_EQ(RoleOf(*subjects, "CN=ops,O=Other"), SubjectRole::kRead);
}

TEST(AllowedSubjectsTest, CraftedNamesGetNothing) {
  absl::StatusOr<AllowedSubjects> subjects = AllowedSubjects::Parse(
      "admin CN=ops,O=Example\n"
      "admin C=US,CN=alice,OU=Admins\n"
      "read dashboard\n",
      "f");
  ASSERT_TRUE(subjects.ok()) << subjects.status();
  EXPECT_EQ(RoleOf(*subjects, "O=Example,CN=ops"), SubjectRole::kAdmin);
  EXPECT_EQ(RoleOf(*subjects, "OU=Admins,CN=alice,C=US"), SubjectRole::kAdmin);
  for (const char* crafted :
       {"CN=ops\\0AO=Example", "CN=alice\\0AOU=Admins,C=US", "CN=ops+O=Example",
        "CN=ops\\0A,O=Example", "CN=dashboard\\0D", "CN=dashboard\\00"}) {
    EXPECT_EQ(RoleOf(*subjects, crafted), SubjectRole::kNone) << crafted;
  }
  // A multi-valued RDN is listed as one, and then only it matches.
  absl::StatusOr<AllowedSubjects> multi =
      AllowedSubjects::Parse("admin CN=ops+O=Example\n", "f");
  ASSERT_TRUE(multi.ok()) << multi.status();
  EXPECT_EQ(RoleOf(*multi, "O=Example+CN=ops"), SubjectRole::kAdmin);
  EXPECT_EQ(RoleOf(*multi, "CN=ops,O=Example"), SubjectRole::kNone);
}

TEST(AllowedSubjectsTest, AnEntryWithAControlCharacterIsRefused) {
  absl::StatusOr<AllowedSubjects> subjects =
      AllowedSubjects::Parse("admin CN=ops\\0AO=Example\n", "f");
  ASSERT_FALSE(subjects.ok());
  EXPECT_THAT(std::string(subjects.status().message()),
              AllOf(HasSubstr("f line 1"), HasSubstr("CN=ops\\0AO=Example"),
                    HasSubstr("control character")));
  EXPECT_FALSE(AllowedSubjects::Parse("read a\x01b\n", "f").ok());
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
  EXPECT_EQ(RoleOf(*loaded, "CN=ops"), SubjectRole::kAdmin);

  absl::StatusOr<AllowedSubjects> missing =
      AllowedSubjects::Load(dir.Join("missing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              AllOf(HasSubstr("TLS_SUBJECTS_UNREADABLE"),
                    HasSubstr(dir.Join("missing"))));
}

}  // namespace
}  // namespace cloudlink::api
