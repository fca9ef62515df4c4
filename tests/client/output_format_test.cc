#include "client/output_format.h"

#include <string>
#include <vector>

#include "cloudlink/v1/cloudlink.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/client/testdata/field_kinds.pb.h"

namespace cloudlink::client {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::ordered_json;

std::vector<std::string> Keys(const Json& object) {
  std::vector<std::string> keys;
  for (auto it = object.begin(); it != object.end(); ++it) {
    keys.push_back(it.key());
  }
  return keys;
}

std::vector<std::string> FieldNames(const google::protobuf::Descriptor* d) {
  std::vector<std::string> names;
  for (int i = 0; i < d->field_count(); ++i)
    names.push_back(d->field(i)->name());
  return names;
}

TEST(StableJsonTest, DefaultStateHasEveryFieldInDeclarationOrder) {
  absl::StatusOr<std::string> text =
      ToStableJson(cloudlink::v1::State(), /*pretty=*/false);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(std::count(text->begin(), text->end(), '\n'), 1);  // one line
  const Json json = Json::parse(*text);
  EXPECT_EQ(Keys(json), FieldNames(cloudlink::v1::State::descriptor()));
  EXPECT_EQ(json["claimed"], false);
  EXPECT_EQ(json["claimed_id"], "");
  EXPECT_EQ(json["mqtt_version"], 0);
  EXPECT_EQ(json["reconnect_count"], "0");  // proto3 JSON: 64-bit as string
  EXPECT_EQ(json["rooms"], Json::array());
  EXPECT_TRUE(json["since"].is_null());
  EXPECT_TRUE(json["publish"].is_null());
}

TEST(StableJsonTest, NestedMessagesAreCompleteToo) {
  cloudlink::v1::ClaimResponse response;
  response.set_claimed_id("53aa76c2-8af5-448f-849a-b16872cc4ba1");
  response.mutable_state()->set_claimed(true);
  response.mutable_state()->mutable_publish()->set_acked(4);
  response.mutable_state()->mutable_since()->set_seconds(1767323045);
  response.mutable_state()->mutable_last_backoff()->set_nanos(500000000);
  absl::StatusOr<std::string> text = ToStableJson(response, /*pretty=*/true);
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("\n  \"already_claimed\": false,\n"));
  const Json json = Json::parse(*text);
  EXPECT_EQ(Keys(json["state"]),
            FieldNames(cloudlink::v1::State::descriptor()));
  EXPECT_EQ(Keys(json["state"]["publish"]),
            FieldNames(cloudlink::v1::PublishCounters::descriptor()));
  EXPECT_EQ(json["state"]["publish"]["acked"], "4");
  EXPECT_EQ(json["state"]["publish"]["pending"], "0");
  EXPECT_EQ(json["state"]["since"], "2026-01-02T03:04:05Z");
  EXPECT_EQ(json["state"]["last_backoff"], "0.500s");
  EXPECT_TRUE(json["state"]["publish_latency"].is_null());
}

TEST(StableJsonTest, SameMessageSameText) {
  cloudlink::testing::v1::AllKinds kinds;
  (*kinds.mutable_labels())["b"] = "2";
  (*kinds.mutable_labels())["a"] = "1";
  kinds.set_level(cloudlink::testing::v1::DELIVERY_LEVEL_DURABLE);
  kinds.add_inners()->set_name("x");
  const std::string first = *ToStableJson(kinds, true);
  EXPECT_EQ(first, *ToStableJson(kinds, true));
  const Json json = Json::parse(first);
  EXPECT_EQ(json["level"], "DELIVERY_LEVEL_DURABLE");
  EXPECT_EQ(json["inners"][0]["count"], 0);
  EXPECT_TRUE(json["topic"].is_null());  // unset oneof member
  EXPECT_EQ(json["labels"]["a"], "1");
}

TEST(TextTest, StateLines) {
  cloudlink::v1::State state;
  state.set_claimed(true);
  state.set_claimed_id("53aa76c2-8af5-448f-849a-b16872cc4ba1");
  state.add_rooms("r1");
  state.add_rooms("r2");
  state.set_status("online");
  state.mutable_since()->set_seconds(1767323045);
  state.mutable_since()->set_nanos(250000000);
  state.mutable_last_backoff()->set_seconds(2);
  state.mutable_last_backoff()->set_nanos(500000000);
  state.mutable_publish()->set_published(7);
  state.mutable_publish_latency()->mutable_p99()->set_seconds(90);
  const std::string text = ToText(state);
  EXPECT_THAT(text,
              ::testing::StartsWith("aclk_available: false\n"
                                    "claimed: true\n"
                                    "claimed_id: "
                                    "53aa76c2-8af5-448f-849a-b16872cc4ba1\n"
                                    "machine_guid: null\n"));
  EXPECT_THAT(text, HasSubstr("\nrooms: r1, r2\n"));
  EXPECT_THAT(text, HasSubstr("\nsince: 2026-01-02T03:04:05.25Z\n"));
  EXPECT_THAT(text, HasSubstr("\nlast_connect: null\n"));
  EXPECT_THAT(text, HasSubstr("\nlast_backoff: 2.5s\n"));
  EXPECT_THAT(text, HasSubstr("\npublish:\n  published: 7\n  acked: 0\n"));
  EXPECT_THAT(text, HasSubstr("\npublish_latency:\n  p50: null\n  p99: 1m30s\n"));
  EXPECT_THAT(text, ::testing::EndsWith("hostname: null\n"));
}

TEST(TextTest, EveryKind) {
  cloudlink::testing::v1::AllKinds kinds;
  kinds.set_payload("hi");
  kinds.set_level(cloudlink::testing::v1::DELIVERY_LEVEL_AT_MOST_ONCE);
  kinds.add_numbers(1);
  kinds.add_numbers(-2);
  kinds.add_inners()->set_name("x");
  kinds.add_inners()->set_count(2);
  (*kinds.mutable_labels())["k"] = "v";
  kinds.set_f64(0.5);
  const std::string text = ToText(kinds);
  EXPECT_THAT(text, HasSubstr("\npayload: aGk=\n"));
  EXPECT_THAT(text, HasSubstr("\nlevel: DELIVERY_LEVEL_AT_MOST_ONCE\n"));
  EXPECT_THAT(text, HasSubstr("\nnumbers: 1, -2\n"));
  EXPECT_THAT(text, HasSubstr("\nf64: 0.5\n"));
  EXPECT_THAT(text, HasSubstr("\ninners[0]:\n  name: x\n  count: 0\n"
                              "inners[1]:\n  name: null\n  count: 2\n"));
  EXPECT_THAT(text, HasSubstr("\nlabels:\n  k: v\n"));
  EXPECT_THAT(text, HasSubstr("\ninner: null\n"));
}

TEST(FormatTest, TimestampsAndDurations) {
  google::protobuf::Timestamp t;
  t.set_seconds(0);
  EXPECT_EQ(FormatTimestamp(t), "1970-01-01T00:00:00Z");
  google::protobuf::Duration d;
  d.set_seconds(2);
  d.set_nanos(500000000);
  EXPECT_EQ(FormatDuration(d), "2.5s");
  d.set_seconds(0);
  d.set_nanos(0);
  EXPECT_EQ(FormatDuration(d), "0");
}

}  // namespace
}  // namespace cloudlink::client
