// The registry of reasons (server/common/reasons.h): well-formed, and every
// reason documented in the control API's proto.

#include "server/common/reasons.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/testing/test_env.h"

namespace cloudlink {
namespace {

bool IsUpperSnake(absl::string_view name) {
  if (name.empty() || !absl::ascii_isupper(name.front()) ||
      name.back() == '_') {
    return false;
  }
  char previous = 0;
  for (char c : name) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c) && c != '_') {
      return false;
    }
    if (c == '_' && previous == '_') return false;
    previous = c;
  }
  return true;
}

// "TOKEN_INVALID" → "kTokenInvalid", the style of the constants' names.
std::string ConstantName(absl::string_view name) {
  std::string constant = "k";
  for (absl::string_view word : absl::StrSplit(name, '_')) {
    if (word.empty()) continue;
    constant += word.front();
    constant += absl::AsciiStrToLower(word.substr(1));
  }
  return constant;
}

TEST(ReasonsTest, NamesAreUniqueAndUpperSnake) {
  ASSERT_FALSE(reason::All().empty());
  std::set<absl::string_view> names;
  for (const Reason* r : reason::All()) {
    EXPECT_TRUE(IsUpperSnake(r->name)) << r->name;
    EXPECT_TRUE(names.insert(r->name).second) << "duplicate " << r->name;
  }
}

TEST(ReasonsTest, MeaningsAreOneNonEmptyLine) {
  for (const Reason* r : reason::All()) {
    EXPECT_FALSE(absl::StripAsciiWhitespace(r->meaning).empty()) << r->name;
    EXPECT_EQ(r->meaning.find('\n'), absl::string_view::npos) << r->name;
  }
}

TEST(ReasonsTest, ConstantsAreNamedForTheirReason) {
  struct Entry {
    const char* constant;
    absl::string_view name;
  };
#define CLOUDLINK_REASON_ENTRY(constant, name, meaning) {#constant, name},
  static constexpr Entry kEntries[] = {
      CLOUDLINK_REASONS(CLOUDLINK_REASON_ENTRY)};
#undef CLOUDLINK_REASON_ENTRY
  ASSERT_EQ(std::size(kEntries), reason::All().size());
  for (const Entry& entry : kEntries) {
    EXPECT_EQ(entry.constant, ConstantName(entry.name));
  }
}

TEST(ReasonsTest, FindReturnsTheConstant) {
  EXPECT_EQ(reason::Find("TOKEN_INVALID"), &reason::kTokenInvalid);
  EXPECT_EQ(reason::Find("BATCH_TIMEOUT"), &reason::kBatchTimeout);
  EXPECT_EQ(reason::Find("TOKEN"), nullptr);
  EXPECT_EQ(reason::Find(""), nullptr);
}

// Every reason appears, as a whole word, in the comments of
// proto/cloudlink/v1/cloudlink.proto: the README promises that file
// documents every reason.
TEST(ReasonsTest, EveryReasonIsDocumentedInTheProto) {
  const std::string proto = testing::ReadFileOrEmpty(
      testing::RunfilePath("proto/cloudlink/v1/cloudlink.proto"));
  ASSERT_FALSE(proto.empty());
  std::string comments;
  for (absl::string_view line : absl::StrSplit(proto, '\n')) {
    absl::string_view text = absl::StripLeadingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&text, "//")) {
      comments.append(text.data(), text.size());
      comments += '\n';
    }
  }
  auto is_name_char = [](char c) {
    return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_';
  };
  std::vector<std::string> missing;
  for (const Reason* r : reason::All()) {
    const std::string name(r->name);
    bool found = false;
    for (size_t at = comments.find(name); at != std::string::npos && !found;
         at = comments.find(name, at + 1)) {
      const size_t end = at + name.size();
      found = (at == 0 || !is_name_char(comments[at - 1])) &&
              (end == comments.size() || !is_name_char(comments[end]));
    }
    if (!found) missing.emplace_back(r->name);
  }
  EXPECT_THAT(missing, ::testing::IsEmpty())
      << "document these reasons in the comments of "
         "proto/cloudlink/v1/cloudlink.proto";
}

}  // namespace
}  // namespace cloudlink
