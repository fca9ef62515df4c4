#include "server/mqtt/mqtt_wire.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "server/common/error.h"

namespace cloudlink::mqtt::internal {
namespace {

TEST(MqttWireTest, VariableByteIntegersRoundTripAtEveryBoundary) {
  // MQTT 5.0 section 1.5.5: the largest value of each length and the next.
  const struct {
    uint32_t value;
    size_t size;
  } kCases[] = {{0, 1},     {127, 1},     {128, 2},     {16383, 2},
                {16384, 3}, {2097151, 3}, {2097152, 4}, {kMaxVbi, 4}};
  for (const auto& c : kCases) {
    EXPECT_EQ(VbiSize(c.value), c.size) << c.value;
    char bytes[4];
    ASSERT_EQ(PutVbi(c.value, bytes), c.size) << c.value;
    Reader reader(absl::string_view(bytes, c.size), "TEST");
    uint32_t back = 0;
    ASSERT_TRUE(reader.Vbi("value", &back).ok()) << c.value;
    EXPECT_EQ(back, c.value);
    EXPECT_TRUE(reader.empty());
  }
}

TEST(MqttWireTest, SizeCounterAndAppenderAgree) {
  std::string out;
  Appender appender(&out);
  SizeCounter counter;
  const std::string field(300, 'f');
  counter.Byte(1);
  counter.U16(2);
  counter.U32(3);
  counter.Vbi(16384);
  counter.Field(field);
  counter.Raw("raw");
  appender.Byte(1);
  appender.U16(2);
  appender.U32(3);
  appender.Vbi(16384);
  appender.Field(field);
  appender.Raw("raw");
  EXPECT_EQ(counter.size(), out.size());
  EXPECT_FALSE(counter.field_too_long());
  EXPECT_FALSE(counter.vbi_too_large());
  EXPECT_EQ(out.substr(0, 7), std::string("\x01\x00\x02\x00\x00\x00\x03", 7));
  EXPECT_EQ(out.substr(7, 3), std::string("\x80\x80\x01", 3));
  EXPECT_EQ(out.substr(10, 2), std::string("\x01\x2C", 2));  // 300
}

TEST(MqttWireTest, SizeCounterNotesWhatCannotBeWritten) {
  SizeCounter counter;
  counter.Field(std::string(kMaxFieldLength, 'x'));
  EXPECT_FALSE(counter.field_too_long());
  counter.Field(std::string(kMaxFieldLength + 1, 'x'));
  EXPECT_TRUE(counter.field_too_long());
  EXPECT_FALSE(counter.vbi_too_large());
  counter.Vbi(kMaxVbi + 1);
  EXPECT_TRUE(counter.vbi_too_large());
}

TEST(MqttWireTest, ReaderReadsFieldsInOrder) {
  const std::string body("\x07\x01\x02\x00\x00\x01\x00\x00\x02hi\x00\x01z!",
                         15);
  Reader reader(body, "TEST");
  uint8_t byte = 0;
  uint16_t u16 = 0;
  uint32_t u32 = 0;
  absl::string_view text;
  absl::string_view binary;
  ASSERT_TRUE(reader.Byte("byte", &byte).ok());
  ASSERT_TRUE(reader.U16("u16", &u16).ok());
  ASSERT_TRUE(reader.U32("u32", &u32).ok());
  ASSERT_TRUE(reader.Utf8("text", &text).ok());
  ASSERT_TRUE(reader.Binary("binary", &binary).ok());
  EXPECT_EQ(byte, 7);
  EXPECT_EQ(u16, 0x0102);
  EXPECT_EQ(u32, 0x00000100u);
  EXPECT_EQ(text, "hi");
  EXPECT_EQ(binary, "z");
  EXPECT_EQ(ReasonOf(reader.ExpectEnd()), "MQTT_MALFORMED");
  EXPECT_EQ(reader.Rest(), "!");
  EXPECT_TRUE(reader.ExpectEnd().ok());
}

TEST(MqttWireTest, ShortInputIsTruncatedNamingFieldAndPacket) {
  Reader reader(absl::string_view("\x00\x05"
                                  "ab",
                                  4),
                "PUBLISH");
  absl::string_view topic;
  absl::Status status = reader.Utf8("Topic Name", &topic);
  EXPECT_EQ(ReasonOf(status), "MQTT_MALFORMED");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("truncated Topic Name in PUBLISH"),
            absl::string_view::npos)
      << status;

  uint32_t value = 0;
  Reader five(absl::string_view("\x80\x80\x80\x80\x01", 5), "CONNACK");
  EXPECT_EQ(ReasonOf(five.Vbi("Property Length", &value)), "MQTT_MALFORMED");
  Reader cut(absl::string_view("\x80\x80", 2), "CONNACK");
  EXPECT_EQ(ReasonOf(cut.Vbi("Property Length", &value)), "MQTT_MALFORMED");
}

TEST(MqttWireTest, Utf8RefusesWhatMqttForbids) {
  Reader reader(absl::string_view("\x00\x03"
                                  "a\0b",
                                  5),
                "PUBLISH");
  absl::string_view text;
  EXPECT_EQ(ReasonOf(reader.Utf8("Topic Name", &text)), "MQTT_MALFORMED");
  Reader binary(absl::string_view("\x00\x03"
                                  "a\0b",
                                  5),
                "PUBLISH");
  EXPECT_TRUE(binary.Binary("Payload", &text).ok());
  EXPECT_EQ(text, absl::string_view("a\0b", 3));
}

TEST(MqttWireTest, CheckQosAllowsZeroToTwo) {
  EXPECT_TRUE(CheckQos(0, "PUBLISH").ok());
  EXPECT_TRUE(CheckQos(2, "PUBLISH").ok());
  EXPECT_EQ(ReasonOf(CheckQos(3, "PUBLISH")), "MQTT_MALFORMED");
}

}  // namespace
}  // namespace cloudlink::mqtt::internal
