// The property table and property readers and writers (mqtt_properties.h),
// through the public encoder and decoder.

#include <gtest/gtest.h>

#include <string>

#include "absl/status/statusor.h"
#include "server/common/error.h"
#include "server/mqtt/mqtt_decoder.h"
#include "server/mqtt/mqtt_encoder.h"
#include "server/mqtt/mqtt_packet.h"
#include "tests/server/mqtt/mqtt_test_packets.h"

namespace cloudlink::mqtt {
namespace {

TEST(MqttPropertiesTest, EveryPacketAndPropertyRoundTrips) {
  for (const MqttPacket& packet : AllPackets()) {
    SCOPED_TRACE(MqttPacketTypeName(TypeOf(packet)));
    const std::string bytes = Encode(packet);
    absl::StatusOr<MqttPacket> decoded = DecodeOne(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status() << " in " << Hex(bytes);
    EXPECT_TRUE(*decoded == packet);
    EXPECT_EQ(Encode(*decoded), bytes);
  }
}

TEST(MqttPropertiesTest, PropertyLengthOfFiveBytesIsMalformed) {
  EXPECT_EQ(DecodeReason(Bytes(
                {0x30, 0x08, 0x00, 0x01, 't', 0x80, 0x80, 0x80, 0x80, 0x01})),
            "MQTT_MALFORMED");
}

TEST(MqttPropertiesTest, UnknownPropertyIsMalformed) {
  // 0x04 is not a property identifier.
  absl::StatusOr<MqttPacket> p =
      DecodeOne(Bytes({0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x04, 0x00}));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ReasonOf(p.status()), "MQTT_MALFORMED");
  EXPECT_NE(p.status().message().find("0x04"), std::string::npos);
  // Nor is 0x7F, or a two-byte identifier.
  EXPECT_EQ(
      DecodeReason(Bytes({0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x7F, 0x00})),
      "MQTT_MALFORMED");
  EXPECT_EQ(DecodeReason(
                Bytes({0x30, 0x07, 0x00, 0x01, 't', 0x03, 0x81, 0x01, 0x00})),
            "MQTT_MALFORMED");
}

TEST(MqttPropertiesTest, PropertyNotAllowedInPacketIsMalformed) {
  // Session Expiry Interval in PUBLISH.
  EXPECT_EQ(DecodeReason(Bytes({0x30, 0x09, 0x00, 0x01, 't', 0x05, 0x11, 0x00,
                                0x00, 0x00, 0x01})),
            "MQTT_MALFORMED");
  // Topic Alias in CONNACK.
  EXPECT_EQ(
      DecodeReason(Bytes({0x20, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01})),
      "MQTT_MALFORMED");
  // Will Delay Interval among the CONNECT properties (Will only).
  MqttConnect c;
  c.client_id = "c";
  c.properties.session_expiry_interval_seconds = 1;  // 0x11, 4 bytes
  std::string bytes = Encode(c);
  const size_t at = 2 + 6 + 1 + 1 + 2 + 1;  // first property identifier
  ASSERT_EQ(bytes[at], 0x11);
  bytes[at] = 0x18;
  EXPECT_EQ(DecodeReason(bytes), "MQTT_MALFORMED");
  // Reason String in SUBSCRIBE.
  EXPECT_EQ(DecodeReason(Bytes({0x82, 0x0B, 0x00, 0x01, 0x04, 0x1F, 0x00, 0x01,
                                'r', 0x00, 0x01, 't', 0x00})),
            "MQTT_MALFORMED");
}

TEST(MqttPropertiesTest, DuplicateSingleUsePropertyIsProtocolError) {
  // Topic Alias twice in PUBLISH.
  EXPECT_EQ(DecodeReason(Bytes({0x30, 0x0B, 0x00, 0x01, 't', 0x06, 0x23, 0x00,
                                0x01, 0x23, 0x00, 0x02, 'p'})),
            "MQTT_PROTOCOL_ERROR");
  // Receive Maximum twice in CONNACK.
  EXPECT_EQ(DecodeReason(Bytes({0x20, 0x09, 0x00, 0x00, 0x06, 0x21, 0x00, 0x01,
                                0x21, 0x00, 0x02})),
            "MQTT_PROTOCOL_ERROR");
  // Subscription Identifier twice in SUBSCRIBE (but fine in PUBLISH).
  EXPECT_EQ(DecodeReason(Bytes({0x82, 0x0B, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B,
                                0x02, 0x00, 0x01, 't', 0x00})),
            "MQTT_PROTOCOL_ERROR");
  EXPECT_EQ(DecodeReason(Bytes(
                {0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x0B, 0x01, 0x0B, 0x02})),
            "");
  // User Property may repeat anywhere.
  EXPECT_EQ(DecodeReason(Encode(FullDisconnect())), "");
}

TEST(MqttPropertiesTest, InvalidPropertyValuesAreProtocolErrors) {
  // Receive Maximum 0 in CONNACK.
  EXPECT_EQ(
      DecodeReason(Bytes({0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00})),
      "MQTT_PROTOCOL_ERROR");
  // Maximum Packet Size 0 in CONNACK.
  EXPECT_EQ(DecodeReason(Bytes(
                {0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0x00, 0x00, 0x00, 0x00})),
            "MQTT_PROTOCOL_ERROR");
  // Maximum QoS 2 in CONNACK.
  EXPECT_EQ(DecodeReason(Bytes({0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02})),
            "MQTT_PROTOCOL_ERROR");
  // Topic Alias 0 in PUBLISH.
  EXPECT_EQ(DecodeReason(
                Bytes({0x30, 0x07, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x00})),
            "MQTT_PROTOCOL_ERROR");
  // Subscription Identifier 0 in PUBLISH.
  EXPECT_EQ(
      DecodeReason(Bytes({0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x0B, 0x00})),
      "MQTT_PROTOCOL_ERROR");
}

}  // namespace
}  // namespace cloudlink::mqtt
