#include "server/config/ini_file.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "server/common/error.h"

namespace cloudlink::config {
namespace {

constexpr char kPath[] = "/etc/cloudlink/claim.conf";

TEST(ParseIniTest, SectionsEntriesCommentsAndLineNumbers) {
  absl::StatusOr<IniFile> file = ParseIni(
      "# comment\n"
      "; another\n"
      "\n"
      "  [ global ]  \n"
      "   url = https://x.example  \n"
      "\ttoken=abc#;=def\n"
      "empty =\n"
      "[other]\n"
      "k = v\n",
      kPath);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->sections.size(), 2u);
  const IniSection& global = file->sections[0];
  EXPECT_EQ(global.name, "global");
  EXPECT_EQ(global.line, 4);
  ASSERT_EQ(global.entries.size(), 3u);
  EXPECT_EQ(global.entries[0].key, "url");
  EXPECT_EQ(global.entries[0].value, "https://x.example");
  EXPECT_EQ(global.entries[0].line, 5);
  // '#' and ';' inside a value are part of it; only the first '=' splits.
  EXPECT_EQ(global.entries[1].key, "token");
  EXPECT_EQ(global.entries[1].value, "abc#;=def");
  EXPECT_EQ(global.entries[1].line, 6);
  EXPECT_EQ(global.entries[2].value, "");
  EXPECT_EQ(file->sections[1].name, "other");
  EXPECT_EQ(file->sections[1].line, 8);
  EXPECT_EQ(file->sections[1].entries[0].line, 9);
}

TEST(ParseIniTest, EntriesBeforeAnyHeaderGoToUnnamedSection) {
  absl::StatusOr<IniFile> file = ParseIni("a = 1\n[global]\n", kPath);
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(file->sections.size(), 2u);
  EXPECT_EQ(file->sections[0].name, "");
  EXPECT_EQ(file->sections[0].entries[0].line, 1);
}

TEST(ParseIniTest, BomAndCrlfAccepted) {
  absl::StatusOr<IniFile> file =
      ParseIni("\xEF\xBB\xBF[global]\r\ntoken = t\r\n", kPath);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->sections[0].name, "global");
  EXPECT_EQ(file->sections[0].entries[0].value, "t");
  EXPECT_EQ(file->sections[0].entries[0].line, 2);
}

TEST(ParseIniTest, EmptyTextHasNoSections) {
  absl::StatusOr<IniFile> file = ParseIni("", kPath);
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->sections.empty());
}

struct BadLine {
  const char* text;
  const char* expected_message;
};

class ParseIniErrorTest : public ::testing::TestWithParam<BadLine> {};

TEST_P(ParseIniErrorTest, NamesFileLineAndFix) {
  absl::StatusOr<IniFile> file = ParseIni(GetParam().text, kPath);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(file.status()), "CONFIG_INVALID");
  EXPECT_EQ(file.status().message(), GetParam().expected_message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseIniErrorTest,
    ::testing::Values(
        BadLine{"[global]\n\n\ngarbage line\n",
                "CONFIG_INVALID: /etc/cloudlink/claim.conf:4: expected 'key = "
                "value' or '[section]'; comment lines start with '#' or ';'"},
        BadLine{"[global\n",
                "CONFIG_INVALID: /etc/cloudlink/claim.conf:1: a section "
                "header must be '[name]' alone on its line; add the closing "
                "']'"},
        BadLine{"[global] # c\n",
                "CONFIG_INVALID: /etc/cloudlink/claim.conf:1: a section "
                "header must be '[name]' alone on its line; add the closing "
                "']'"},
        BadLine{"[ ]\n",
                "CONFIG_INVALID: /etc/cloudlink/claim.conf:1: the section "
                "name is empty or contains '[' or ']'; write it as "
                "'[global]'"},
        BadLine{"[global]\n = value\n",
                "CONFIG_INVALID: /etc/cloudlink/claim.conf:2: expected 'key "
                "= value' but the key before '=' is empty"}));

TEST(ParseIniTest, GarbageLineIsNotQuoted) {
  absl::StatusOr<IniFile> file =
      ParseIni("[global]\nsecret-token-pasted-alone\n", kPath);
  ASSERT_FALSE(file.ok());
  EXPECT_FALSE(
      absl::StrContains(file.status().message(), "secret-token-pasted"));
}

TEST(SerializeIniTest, WritesHeaderSectionsAndParsesBack) {
  IniFile file;
  file.sections.push_back(
      {"global", 0, {{"url", "https://x", 0}, {"e", "", 0}}});
  file.sections.push_back({"more", 0, {{"k", "a = b # c", 0}}});
  absl::StatusOr<std::string> text =
      SerializeIni(file, "line 1\n\nline 3", kPath);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "# line 1\n#\n# line 3\n"
            "[global]\n    url = https://x\n    e = \n"
            "[more]\n    k = a = b # c\n");
  absl::StatusOr<IniFile> back = ParseIni(*text, kPath);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->sections.size(), 2u);
  EXPECT_EQ(back->sections[1].entries[0].value, "a = b # c");
  EXPECT_EQ(back->sections[0].entries[1].value, "");
}

TEST(SerializeIniTest, RefusesWhatWouldNotReadBack) {
  auto serialize = [](IniSection section) {
    IniFile file;
    file.sections.push_back(std::move(section));
    return SerializeIni(file, "", kPath).status();
  };
  EXPECT_FALSE(serialize({"g", 0, {{"k", "two\nlines", 0}}}).ok());
  EXPECT_FALSE(serialize({"g", 0, {{"k", " padded", 0}}}).ok());
  EXPECT_FALSE(serialize({"g", 0, {{"", "v", 0}}}).ok());
  EXPECT_FALSE(serialize({"g", 0, {{"a=b", "v", 0}}}).ok());
  EXPECT_FALSE(serialize({"g", 0, {{"#k", "v", 0}}}).ok());
  EXPECT_FALSE(serialize({"g]", 0, {}}).ok());
  absl::Status s = serialize({"g", 0, {{"token", "secret\nvalue", 0}}});
  EXPECT_EQ(ReasonOf(s), "CONFIG_INVALID");
  EXPECT_FALSE(absl::StrContains(s.message(), "secret"));
  // An unnamed section is allowed only first.
  IniFile file;
  file.sections.push_back({"g", 0, {}});
  file.sections.push_back({"", 0, {{"k", "v", 0}}});
  EXPECT_FALSE(SerializeIni(file, "", kPath).ok());
}

TEST(SetIniValueTest, ReplacesValueKeepingEverythingElse) {
  const std::string text =
      "# my claim settings\n"
      "[global]\n"
      "   url = https://app.netdata.cloud\n"
      "   ; old token below\n"
      "   token   =   OLD\n"
      "   rooms = a,b\n";
  absl::StatusOr<std::string> out =
      SetIniValue(text, kPath, "global", "token", "NEW");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out,
            "# my claim settings\n"
            "[global]\n"
            "   url = https://app.netdata.cloud\n"
            "   ; old token below\n"
            "   token   =   NEW\n"
            "   rooms = a,b\n");
}

TEST(SetIniValueTest, ReplacesEmptyValue) {
  absl::StatusOr<std::string> out =
      SetIniValue("[global]\ntoken =\nx=1\n", kPath, "global", "token", "T");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "[global]\ntoken = T\nx=1\n");
}

TEST(SetIniValueTest, KeyInOtherSectionIsNotTouched) {
  absl::StatusOr<std::string> out =
      SetIniValue("[other]\ntoken = keep\n[global]\n  url = u\n", kPath,
                  "global", "token", "T");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "[other]\ntoken = keep\n[global]\n  url = u\n  token = T\n");
}

TEST(SetIniValueTest, AddsMissingKeyAfterLastEntryOfFirstBlock) {
  absl::StatusOr<std::string> out = SetIniValue(
      "[global]\n\turl = u\n\trooms = r\n\n# trailing comment\n[other]\nk = "
      "v\n",
      kPath, "global", "token", "T");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "[global]\n\turl = u\n\trooms = r\n\ttoken = T\n\n# trailing "
            "comment\n[other]\nk = v\n");
}

TEST(SetIniValueTest, AddsMissingKeyUnderEmptySection) {
  absl::StatusOr<std::string> out =
      SetIniValue("[global]\n[other]\n", kPath, "global", "token", "T");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "[global]\n    token = T\n[other]\n");
}

TEST(SetIniValueTest, AddsMissingSectionAtEnd) {
  absl::StatusOr<std::string> out =
      SetIniValue("# only a comment", kPath, "global", "token", "T");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "# only a comment\n\n[global]\n    token = T\n");
  out = SetIniValue("", kPath, "global", "token", "T");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "[global]\n    token = T\n");
}

TEST(SetIniValueTest, KeepsCrlfAndBom) {
  absl::StatusOr<std::string> out =
      SetIniValue("\xEF\xBB\xBF[global]\r\n  token = OLD\r\n", kPath, "global",
                  "token", "NEW");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "\xEF\xBB\xBF[global]\r\n  token = NEW\r\n");
  out = SetIniValue("[global]\r\n  url = u\r\n", kPath, "global", "token", "T");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "[global]\r\n  url = u\r\n  token = T\r\n");
}

TEST(SetIniValueTest, UntouchedLoneCarriageReturnAtEnd) {
  absl::StatusOr<std::string> out =
      SetIniValue("[global]\nurl = u\n# c\r", kPath, "global", "url", "v");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "[global]\nurl = v\n# c\r");
}

TEST(SetIniValueTest, LastLineWithoutNewline) {
  absl::StatusOr<std::string> out =
      SetIniValue("[global]\nurl = u", kPath, "global", "token", "T");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "[global]\nurl = u\ntoken = T\n");
  out = SetIniValue("[global]\ntoken = a", kPath, "global", "token", "T");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "[global]\ntoken = T");
}

TEST(SetIniValueTest, ResultParsesWithNewValue) {
  absl::StatusOr<std::string> out =
      SetIniValue("[global]\ntoken = a\n", kPath, "global", "token", "b=#;c");
  ASSERT_TRUE(out.ok());
  absl::StatusOr<IniFile> file = ParseIni(*out, kPath);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->sections[0].entries[0].value, "b=#;c");
}

TEST(SetIniValueTest, RefusesMalformedTextAndUnwritableValues) {
  absl::StatusOr<std::string> out =
      SetIniValue("[global]\nnonsense\n", kPath, "global", "token", "T");
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(absl::StrContains(out.status().message(), "claim.conf:2:"));
  out = SetIniValue("[global]\n", kPath, "global", "token", "A\nB");
  ASSERT_FALSE(out.ok());
  EXPECT_FALSE(absl::StrContains(out.status().message(), "A\nB"));
  EXPECT_FALSE(SetIniValue("", kPath, "", "token", "T").ok());
}

}  // namespace
}  // namespace cloudlink::config
