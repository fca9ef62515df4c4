#include "client/proto_comments.h"

#include "absl/strings/match.h"
#include "client/embedded_descriptor_set.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "gtest/gtest.h"
#include "tests/client/testdata/field_kinds.pb.h"
#include "tests/testing/test_env.h"

namespace cloudlink::client {
namespace {

using cloudlink::testing::ReadFileOrEmpty;
using cloudlink::testing::RunfilePath;

TEST(ProtoCommentsTest, EmbeddedSetHasTheControlApiComments) {
  auto comments = ProtoComments::FromDescriptorSet(EmbeddedDescriptorSet());
  ASSERT_TRUE(comments.ok()) << comments.status();
  const auto* service = cloudlink::v1::State::descriptor()->file()->service(0);
  EXPECT_EQ((*comments)->Leading(service->FindMethodByName("GetState")),
            "The node's claim and link state: everything `aclk-state` shows.");
  EXPECT_EQ(
      (*comments)->Leading(
          cloudlink::v1::ClaimRequest::descriptor()->FindFieldByName("token")),
      "The Space's claim token. Required.");
  EXPECT_EQ((*comments)->Leading(cloudlink::v1::PublishCounters::descriptor()),
            "Counters of the MQTT publish path since the daemon started.");
}

TEST(ProtoCommentsTest, MultiLineCommentsKeepTheirLinesWithoutMarkers) {
  auto comments = ProtoComments::FromDescriptorSet(
      ReadFileOrEmpty(RunfilePath("tests/client/testdata/field_kinds.binpb")));
  ASSERT_TRUE(comments.ok()) << comments.status();
  const auto* kinds = cloudlink::testing::v1::AllKinds::descriptor();
  EXPECT_EQ((*comments)->Leading(kinds->FindFieldByName("text")),
            "A plain string.\nSecond line of its comment.");
  // No comment: empty, not an error.
  EXPECT_EQ((*comments)->Leading(kinds->FindFieldByName("payload")), "");
}

TEST(ProtoCommentsTest, DeclarationsOutsideTheSetHaveNoComment) {
  auto comments = ProtoComments::FromDescriptorSet(EmbeddedDescriptorSet());
  ASSERT_TRUE(comments.ok());
  EXPECT_EQ((*comments)->Leading(
                cloudlink::testing::v1::AllKinds::descriptor()->field(0)),
            "");
}

TEST(ProtoCommentsTest, GarbageIsAnError) {
  auto comments = ProtoComments::FromDescriptorSet("\xff\xff\xff not a set");
  ASSERT_FALSE(comments.ok());
  EXPECT_EQ(comments.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      absl::StartsWith(comments.status().message(), "BAD_DESCRIPTOR_SET:"));
}

TEST(ProtoCommentsTest, EmptySetIsValidAndHasNoComments) {
  auto comments = ProtoComments::FromDescriptorSet("");
  ASSERT_TRUE(comments.ok());
  EXPECT_EQ((*comments)->Leading(cloudlink::v1::State::descriptor()), "");
}

}  // namespace
}  // namespace cloudlink::client
