#include "client/flag_parser.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/testdata/field_kinds.pb.h"

namespace cloudlink::client {
namespace {

using cloudlink::testing::v1::AllKinds;
using ::testing::HasSubstr;
using ::testing::Not;

class FlagParserTest : public ::testing::Test {
 protected:
  FlagParserTest()
      : no_comments_(std::move(*ProtoComments::FromDescriptorSet(""))),
        commands_(CommandsFromService(
            AllKinds::descriptor()->file()->service(0), *no_comments_)),
        send_(*FindCommand(commands_, "send-all")) {}

  absl::Status Parse(const std::vector<std::string>& args) {
    request_.Clear();
    return ParseRequestFlags(send_, args, &request_);
  }

  std::unique_ptr<ProtoComments> no_comments_;
  std::vector<CommandSpec> commands_;
  const CommandSpec& send_;
  AllKinds request_;
};

TEST_F(FlagParserTest, ScalarsInBothForms) {
  ASSERT_TRUE(
      Parse({"--text", "hello world", "--payload=raw\x01", "--i32", "-5",
             "--i64=-9000000000", "--u32", "4294967295",
             "--u64=18446744073709551615", "--f32", "1.5", "--f64", "-2.25e3"})
          .ok());
  EXPECT_EQ(request_.text(), "hello world");
  EXPECT_EQ(request_.payload(), "raw\x01");
  EXPECT_EQ(request_.i32(), -5);
  EXPECT_EQ(request_.i64(), -9000000000);
  EXPECT_EQ(request_.u32(), 4294967295u);
  EXPECT_EQ(request_.u64(), 18446744073709551615u);
  EXPECT_FLOAT_EQ(request_.f32(), 1.5f);
  EXPECT_DOUBLE_EQ(request_.f64(), -2250.0);
}

TEST_F(FlagParserTest, SnakeCaseNamesWorkToo) {
  ASSERT_TRUE(Parse({"--api_token", "x"}).ok());
  EXPECT_EQ(request_.api_token(), "x");
}

TEST_F(FlagParserTest, Bools) {
  ASSERT_TRUE(Parse({"--flag"}).ok());
  EXPECT_TRUE(request_.flag());
  ASSERT_TRUE(Parse({"--flag=false"}).ok());
  EXPECT_FALSE(request_.flag());
  ASSERT_TRUE(Parse({"--flag=yes"}).ok());
  EXPECT_TRUE(request_.flag());
  // A following true/false is the flag's value; nothing else is.
  ASSERT_TRUE(Parse({"--flag", "false", "--text", "t"}).ok());
  EXPECT_FALSE(request_.flag());
  EXPECT_EQ(request_.text(), "t");
  const absl::Status bad = Parse({"--flag=maybe"});
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(bad.message(), "BAD_FLAG_VALUE: --flag:"))
      << bad;
  EXPECT_FALSE(Parse({"--flag", "maybe"}).ok());  // an unexpected argument
}

TEST_F(FlagParserTest, Enums) {
  ASSERT_TRUE(Parse({"--level", "DELIVERY_LEVEL_DURABLE"}).ok());
  EXPECT_EQ(request_.level(), cloudlink::testing::v1::DELIVERY_LEVEL_DURABLE);
  ASSERT_TRUE(Parse({"--level", "at-most-once"}).ok());
  EXPECT_EQ(request_.level(),
            cloudlink::testing::v1::DELIVERY_LEVEL_AT_MOST_ONCE);
  ASSERT_TRUE(Parse({"--levels", "durable,AT_MOST_ONCE"}).ok());
  ASSERT_EQ(request_.levels_size(), 2);
  EXPECT_EQ(request_.levels(1),
            cloudlink::testing::v1::DELIVERY_LEVEL_AT_MOST_ONCE);
  const absl::Status bad = Parse({"--level", "sometimes"});
  EXPECT_THAT(std::string(bad.message()),
              HasSubstr("--level: \"sometimes\" is not one of "
                        "DELIVERY_LEVEL_UNSPECIFIED"));
}

TEST_F(FlagParserTest, RepeatedAreCommaListsAndRepeatsAppend) {
  ASSERT_TRUE(Parse({"--names", "a, b,,c", "--names=d", "--numbers", "1,2",
                     "--bits", "true,false"})
                  .ok());
  EXPECT_THAT(request_.names(), ::testing::ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(request_.numbers(), ::testing::ElementsAre(1, 2));
  EXPECT_THAT(request_.bits(), ::testing::ElementsAre(true, false));
  ASSERT_TRUE(Parse({"--names", ""}).ok());
  EXPECT_TRUE(request_.names().empty());
  const absl::Status bad = Parse({"--numbers", "1,x"});
  EXPECT_TRUE(absl::StartsWith(bad.message(),
                               "BAD_FLAG_VALUE: --numbers: \"x\" is not a "
                               "32-bit integer"))
      << bad;
}

TEST_F(FlagParserTest, MessagesAndWellKnownTypes) {
  ASSERT_TRUE(
      Parse({"--inner", R"({"name":"n","count":3})", "--after", "2.5s", "--at",
             "2026-01-02T03:04:05Z", "--inners", R"({"name":"x"})", "--inners",
             R"([{"count":1}])", "--labels", R"({"k":"v"})"})
          .ok());
  EXPECT_EQ(request_.inner().name(), "n");
  EXPECT_EQ(request_.inner().count(), 3);
  EXPECT_EQ(request_.after().seconds(), 2);
  EXPECT_EQ(request_.after().nanos(), 500000000);
  EXPECT_EQ(request_.at().seconds(), 1767323045);
  ASSERT_EQ(request_.inners_size(), 2);
  EXPECT_EQ(request_.inners(1).count(), 1);
  EXPECT_EQ(request_.labels().at("k"), "v");
  const absl::Status bad = Parse({"--after", "soon"});
  EXPECT_TRUE(absl::StartsWith(bad.message(), "BAD_FLAG_VALUE: --after:"))
      << bad;
}

TEST_F(FlagParserTest, BadNumbersNameTheFlag) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--u32", "-1"},
                                             {"--u32", "4294967296"},
                                             {"--i32", "2147483648"},
                                             {"--i64", "12abc"},
                                             {"--f64", "fast"}}) {
    const absl::Status status = Parse(args);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << args[1];
    EXPECT_TRUE(absl::StartsWith(
        status.message(),
        "BAD_FLAG_VALUE: " + args[0] + ": \"" + args[1] + "\" is not"))
        << status;
  }
}

TEST_F(FlagParserTest, UnknownFlagListsTheKnownOnes) {
  const absl::Status status = Parse({"--colour", "red"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("UNKNOWN_FLAG: --colour is not a flag of send-all; "
                        "its flags are --text, --payload"));
}

TEST_F(FlagParserTest, MissingValue) {
  EXPECT_TRUE(absl::StartsWith(Parse({"--text"}).message(),
                               "MISSING_FLAG_VALUE: --text needs a value"));
  // A following flag of the command, or a global one, is not taken as the
  // value.
  EXPECT_TRUE(absl::StartsWith(Parse({"--text", "--payload"}).message(),
                               "MISSING_FLAG_VALUE: --text"));
  EXPECT_TRUE(absl::StartsWith(Parse({"--text", "--payload=x"}).message(),
                               "MISSING_FLAG_VALUE: --text"));
  EXPECT_TRUE(absl::StartsWith(Parse({"--text", "--json"}).message(),
                               "MISSING_FLAG_VALUE: --text"));
  EXPECT_TRUE(absl::StartsWith(Parse({"--text", "--"}).message(),
                               "MISSING_FLAG_VALUE: --text"));
  ASSERT_TRUE(Parse({"--text=--payload"}).ok());
  EXPECT_EQ(request_.text(), "--payload");
}

// A value that merely starts with "--" (a random token may: its alphabet has
// '-') is the value, as getopt takes it.
TEST_F(FlagParserTest, AValueStartingWithDashesIsAValue) {
  ASSERT_TRUE(Parse({"--text", "--x7Fq-_token"}).ok());
  EXPECT_EQ(request_.text(), "--x7Fq-_token");
  ASSERT_TRUE(Parse({"--text", "-abc"}).ok());
  EXPECT_EQ(request_.text(), "-abc");
}

TEST_F(FlagParserTest, PositionalWordsAreRejected) {
  EXPECT_TRUE(absl::StartsWith(Parse({"stray"}).message(),
                               "UNEXPECTED_ARGUMENT: send-all takes only "
                               "flags"));
}

TEST_F(FlagParserTest, OneofAlternativesConflict) {
  ASSERT_TRUE(Parse({"--topic", "t", "--topic", "u"}).ok());
  EXPECT_EQ(request_.topic(), "u");
  const absl::Status status = Parse({"--topic", "t", "--alias", "3"});
  EXPECT_TRUE(absl::StartsWith(status.message(),
                               "CONFLICTING_FLAGS: --topic and --alias"))
      << status;
}

TEST_F(FlagParserTest, SecretValuesAreRecordedAndNeverInErrors) {
  RequestFlagParser parser(&send_, &request_);
  const std::vector<std::string> args = {"--api-token", "s3cr3t-api-token-42",
                                         "--api-token=s3cr3t-2"};
  size_t index = 0;
  ASSERT_TRUE(parser.Apply(args, &index).ok());
  ASSERT_TRUE(parser.Apply(args, &index).ok());
  EXPECT_EQ(index, 3u);
  EXPECT_THAT(parser.secret_values(),
              ::testing::ElementsAre("s3cr3t-api-token-42", "s3cr3t-2"));
  EXPECT_TRUE(parser.any_flag());

  // A long stray word (perhaps a token without its flag) is not echoed.
  const std::string stray = "this-could-be-a-claim-token-0123456789";
  EXPECT_THAT(std::string(Parse({stray}).message()), Not(HasSubstr(stray)));
}

TEST(ControlApiFlagsTest, ClaimFlags) {
  auto comments = std::move(*ProtoComments::FromDescriptorSet(""));
  const auto commands = CommandsFromService(
      cloudlink::v1::State::descriptor()->file()->service(0), *comments);
  cloudlink::v1::ClaimRequest request;
  ASSERT_TRUE(ParseRequestFlags(*FindCommand(commands, "claim"),
                                {"--token", "tok", "--rooms", "a,b",
                                 "--insecure", "--url=https://c.example"},
                                &request)
                  .ok());
  EXPECT_EQ(request.token(), "tok");
  EXPECT_THAT(request.rooms(), ::testing::ElementsAre("a", "b"));
  EXPECT_TRUE(request.insecure());
  EXPECT_EQ(request.url(), "https://c.example");
  EXPECT_EQ(request.proxy(), "");
}

TEST(BoolValueTest, Spellings) {
  bool value = false;
  EXPECT_TRUE(ParseBoolValue("TRUE", &value) && value);
  EXPECT_TRUE(ParseBoolValue("on", &value) && value);
  EXPECT_TRUE(ParseBoolValue("0", &value) && !value);
  EXPECT_TRUE(ParseBoolValue("No", &value) && !value);
  EXPECT_FALSE(ParseBoolValue("", &value));
  EXPECT_FALSE(ParseBoolValue("2", &value));
}

}  // namespace
}  // namespace cloudlink::client
