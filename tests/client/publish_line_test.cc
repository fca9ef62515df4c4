// ParseSimplePublishLine against protobuf's JSON parser: every line it
// takes parses to the same PublishRequest; every line it leaves goes to
// protobuf's parser, which accepts or refuses it as before.

#include "client/publish_line.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace cloudlink::client {
namespace {

using cloudlink::v1::PublishRequest;

// The line's PublishRequest by protobuf's parser; false if it refuses it.
bool ByProtobuf(const std::string& line, PublishRequest* out) {
  return google::protobuf::util::JsonStringToMessage(line, out).ok();
}

TEST(PublishLineTest, TheSimpleShapeParsesAsProtobufParsesIt) {
  const std::string payload = absl::Base64Escape(std::string(1024, '\xfe'));
  const std::vector<std::string> lines = {
      absl::StrCat(R"({"id": "7", "topic": "alarm-log", "payload": ")", payload,
                   R"(", "level": "DELIVERY_LEVEL_AT_LEAST_ONCE"})"),
      R"({"id":18446744073709551615,"topic":"t","payload":"aGk=","level":1})",
      R"({ "payload" : "aGk=" , "topic" : "t" , "id" : 0 })",
      R"({"topic":"t","waitWhenFull":true,"level":"DELIVERY_LEVEL_DURABLE"})",
      R"({"topic":"t","wait_when_full":false,"level":3})",
      R"({"topic":"a/b c","payload":"","level":"DELIVERY_LEVEL_UNSPECIFIED"})",
      R"({"payload":"YQ=="})",
      "{}",
      "\t{\"id\":\"12\"}\r",
  };
  for (const std::string& line : lines) {
    PublishRequest fast, general;
    ASSERT_TRUE(ParseSimplePublishLine(line, &fast)) << line;
    ASSERT_TRUE(ByProtobuf(line, &general)) << line;
    EXPECT_EQ(fast.SerializeAsString(), general.SerializeAsString()) << line;
  }
}

TEST(PublishLineTest, OtherLinesAreLeftToProtobufsParser) {
  const std::vector<std::string> lines = {
      R"({"topic":"caf\u00e9"})",          // an escape
      "{\"topic\":\"caf\xc3\xa9\"}",       // UTF-8 (protobuf checks it)
      R"({"topic":"t","extra":1})",        // another key
      R"({"batch":[{"topic":"t"}]})",      // a batch
      R"({"id":"007"})",                   // leading zeros
      R"({"id":-1})",                      // a sign
      R"({"id":1.0})",                     // a fraction
      R"({"id":"18446744073709551616"})",  // over uint64
      R"({"payload":"aGk"})",              // unpadded base64
      R"({"payload":"a-_b"})",             // web-safe base64
      R"({"payload":"a=Gk"})",             // padding inside
      R"({"level":"AT_LEAST_ONCE"})",      // not an enum name
      R"({"level":9})",                    // not an enum number
      R"({"level":null})",                 // null
      R"({"waitWhenFull":"true"})",        // a string, not a bool
      R"({"topic":"a","topic":"b"})",      // a key twice
      R"({"waitWhenFull":true,"wait_when_full":false})",
      R"({"topic":"t"} x)",  // something after the object
      R"({"topic":"t",})",   // a trailing comma
      R"(["t"])",
      "",
  };
  for (const std::string& line : lines) {
    PublishRequest fast;
    EXPECT_FALSE(ParseSimplePublishLine(line, &fast)) << line;
  }
}

}  // namespace
}  // namespace cloudlink::client
