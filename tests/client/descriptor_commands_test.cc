#include "client/descriptor_commands.h"

#include <string>
#include <vector>

#include "client/embedded_descriptor_set.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/testdata/field_kinds.pb.h"
#include "tests/testing/test_env.h"

namespace cloudlink::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const google::protobuf::ServiceDescriptor* CloudLink() {
  return cloudlink::v1::State::descriptor()->file()->FindServiceByName(
      "CloudLink");
}

std::unique_ptr<ProtoComments> Embedded() {
  return std::move(*ProtoComments::FromDescriptorSet(EmbeddedDescriptorSet()));
}

std::unique_ptr<ProtoComments> KindsComments() {
  return std::move(*ProtoComments::FromDescriptorSet(
      cloudlink::testing::ReadFileOrEmpty(cloudlink::testing::RunfilePath(
          "tests/client/testdata/field_kinds.binpb"))));
}

TEST(KebabCaseTest, MethodAndFieldNames) {
  EXPECT_EQ(KebabCase("GetState"), "get-state");
  EXPECT_EQ(KebabCase("ReloadClaimingState"), "reload-claiming-state");
  EXPECT_EQ(KebabCase("Claim"), "claim");
  EXPECT_EQ(KebabCase("GetACLKState"), "get-aclk-state");
  EXPECT_EQ(KebabCase("Publish2Cloud"), "publish2-cloud");
  EXPECT_EQ(KebabCase("wait_seconds"), "wait-seconds");
  EXPECT_EQ(KebabCase("api_token"), "api-token");
  EXPECT_EQ(KebabCase("f64"), "f64");
}

TEST(DescriptorCommandsTest, OneCommandPerRpcInOrder) {
  const auto commands = CommandsFromService(CloudLink(), *Embedded());
  std::vector<std::string> names;
  for (const CommandSpec& c : commands) names.push_back(c.name);
  EXPECT_THAT(names, ::testing::ElementsAre(
                         "claim", "reclaim", "regenerate-token", "get-state",
                         "reload-claiming-state", "watch-state", "publish"));
  const CommandSpec* claim = FindCommand(commands, "claim");
  ASSERT_NE(claim, nullptr);
  EXPECT_EQ(claim->method->full_name(), "cloudlink.v1.CloudLink.Claim");
  ASSERT_EQ(claim->flags.size(), 5u);
  EXPECT_EQ(claim->flags[0].name, "token");
  EXPECT_TRUE(claim->flags[0].secret);
  EXPECT_EQ(claim->flags[1].name, "rooms");
  EXPECT_EQ(claim->flags[1].value_hint, "STRING[,STRING...]");
  EXPECT_EQ(claim->flags[4].value_hint, "true|false");
  EXPECT_EQ(FindCommand(commands, "Claim"), nullptr);
  EXPECT_EQ(FindCommand(commands, "aclk-state"), nullptr);
}

TEST(DescriptorCommandsTest, FlagsFindableInKebabOrSnakeCase) {
  const auto commands = CommandsFromService(CloudLink(), *Embedded());
  const CommandSpec* reload = FindCommand(commands, "reload-claiming-state");
  ASSERT_NE(reload, nullptr);
  ASSERT_NE(FindFlag(*reload, "wait-seconds"), nullptr);
  EXPECT_EQ(FindFlag(*reload, "wait_seconds"),
            FindFlag(*reload, "wait-seconds"));
  EXPECT_EQ(FindFlag(*reload, "wait"), nullptr);
  EXPECT_EQ(FindFlag(*reload, "wait-seconds")->value_hint, "UINT32");
}

TEST(DescriptorCommandsTest, SecretFields) {
  const auto* regen = cloudlink::v1::RegenerateTokenRequest::descriptor();
  EXPECT_TRUE(IsSecretField(regen->FindFieldByName("api_token")));
  EXPECT_FALSE(IsSecretField(regen->FindFieldByName("space_id")));
  EXPECT_FALSE(IsSecretField(regen->FindFieldByName("update_claim_conf")));
  EXPECT_TRUE(IsSecretField(
      cloudlink::v1::ClaimRequest::descriptor()->FindFieldByName("token")));
  EXPECT_FALSE(IsSecretField(
      cloudlink::v1::ClaimRequest::descriptor()->FindFieldByName("proxy")));
}

// Global flags are taken before request fields; a field with one of their
// names could never be set. This fails when such a field is added.
TEST(DescriptorCommandsTest, NoRequestFieldShadowsAGlobalFlag) {
  for (const CommandSpec& command :
       CommandsFromService(CloudLink(), *Embedded())) {
    for (const char* global :
         {"socket", "json", "timeout", "help", "version"}) {
      EXPECT_EQ(FindFlag(command, global), nullptr)
          << command.name << " has a field named like the global --" << global;
    }
  }
}

TEST(DescriptorCommandsTest, HelpTextComesFromTheProtoComments) {
  const auto commands = CommandsFromService(CloudLink(), *Embedded());
  const std::string help = CommandHelp(*FindCommand(commands, "claim"));
  EXPECT_THAT(help, HasSubstr("Usage: cloudlinkctl claim [flags]"));
  EXPECT_THAT(help, HasSubstr("Claims the node into a Space now"));
  EXPECT_THAT(help, HasSubstr("  --token STRING\n"
                              "      The Space's claim token. Required.\n"));
  EXPECT_THAT(help, HasSubstr("  --insecure[=true|false]\n"
                              "      Turns off TLS certificate"));
  EXPECT_THAT(help, HasSubstr("Comma-separated; repeat the flag"));
  EXPECT_THAT(help, Not(HasSubstr("Responses:")));
  EXPECT_EQ(CommandSummary(*FindCommand(commands, "get-state")),
            "The node's claim and link state: everything `aclk-state` shows.");
}

TEST(DescriptorCommandsTest, StreamingCommandsSayHowTheyStream) {
  const auto commands = CommandsFromService(CloudLink(), *Embedded());
  const std::string watch = CommandHelp(*FindCommand(commands, "watch-state"));
  EXPECT_THAT(watch, HasSubstr("Streams the current State"));
  EXPECT_THAT(watch, HasSubstr("returns (stream cloudlink.v1.State)"));
  EXPECT_THAT(watch, HasSubstr("one JSON object per\nline"));

  const auto kinds = CommandsFromService(
      cloudlink::testing::v1::AllKinds::descriptor()->file()->service(0),
      *KindsComments());
  const std::string publish =
      CommandHelp(*FindCommand(kinds, "publish-stream"));
  EXPECT_THAT(publish, HasSubstr("Publishes messages as they come."));
  EXPECT_THAT(publish, HasSubstr("one JSON\nrequest per line read from "
                                 "standard input"));
}

TEST(DescriptorCommandsTest, EveryFieldKindHasAHint) {
  const auto kinds = CommandsFromService(
      cloudlink::testing::v1::AllKinds::descriptor()->file()->service(0),
      *KindsComments());
  const CommandSpec& send = *FindCommand(kinds, "send-all");
  EXPECT_EQ(FindFlag(send, "text")->value_hint, "STRING");
  EXPECT_EQ(FindFlag(send, "payload")->value_hint, "BYTES");
  EXPECT_EQ(FindFlag(send, "i64")->value_hint, "INT64");
  EXPECT_EQ(FindFlag(send, "f64")->value_hint, "DOUBLE");
  EXPECT_EQ(FindFlag(send, "level")->value_hint,
            "DELIVERY_LEVEL_UNSPECIFIED|DELIVERY_LEVEL_AT_MOST_ONCE|"
            "DELIVERY_LEVEL_DURABLE");
  EXPECT_EQ(FindFlag(send, "numbers")->value_hint, "INT32[,INT32...]");
  EXPECT_EQ(FindFlag(send, "inner")->value_hint, "JSON");
  EXPECT_EQ(FindFlag(send, "after")->value_hint, "DURATION");
  EXPECT_EQ(FindFlag(send, "at")->value_hint, "TIME");
  EXPECT_EQ(FindFlag(send, "labels")->value_hint, "JSON");
  EXPECT_TRUE(FindFlag(send, "api-token")->secret);
  const std::string help = CommandHelp(send);
  EXPECT_THAT(help, HasSubstr("  --text STRING\n      A plain string.\n"
                              "      Second line of its comment.\n"));
  EXPECT_THAT(help, HasSubstr("  --after DURATION\n      Value: a duration"));
}

}  // namespace
}  // namespace cloudlink::client
