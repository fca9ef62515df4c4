#include "server/mqtt/mqtt_packet.h"

#include <gtest/gtest.h>

#include <string>

namespace cloudlink::mqtt {
namespace {

TEST(MqttPacketTest, TypeOfEachAlternative) {
  EXPECT_EQ(TypeOf(MqttConnect{}), MqttPacketType::kConnect);
  EXPECT_EQ(TypeOf(MqttConnack{}), MqttPacketType::kConnack);
  EXPECT_EQ(TypeOf(MqttPublish{}), MqttPacketType::kPublish);
  EXPECT_EQ(TypeOf(MqttPuback{}), MqttPacketType::kPuback);
  EXPECT_EQ(TypeOf(MqttSubscribe{}), MqttPacketType::kSubscribe);
  EXPECT_EQ(TypeOf(MqttSuback{}), MqttPacketType::kSuback);
  EXPECT_EQ(TypeOf(MqttPingreq{}), MqttPacketType::kPingreq);
  EXPECT_EQ(TypeOf(MqttPingresp{}), MqttPacketType::kPingresp);
  EXPECT_EQ(TypeOf(MqttDisconnect{}), MqttPacketType::kDisconnect);
}

TEST(MqttPacketTest, TypeNames) {
  EXPECT_EQ(std::string(MqttPacketTypeName(MqttPacketType::kPublish)),
            "PUBLISH");
  EXPECT_EQ(std::string(MqttPacketTypeName(MqttPacketType::kAuth)), "AUTH");
  EXPECT_EQ(std::string(MqttPacketTypeName(static_cast<MqttPacketType>(0))),
            "RESERVED");
}

// Debug log text: type and identifiers, never payloads or credentials.
TEST(MqttPacketTest, DescribePacketShowsTypeAndIdsButNoPayload) {
  MqttPublish publish;
  publish.qos = 1;
  publish.packet_id = 7;
  publish.topic = "/agent/x/inbound/cmd";
  publish.payload = "payload-secret";
  EXPECT_EQ(DescribePacket(publish),
            "PUBLISH (qos 1, id 7, topic /agent/x/inbound/cmd, 14 bytes)");
  MqttPuback puback;
  puback.packet_id = 9;
  puback.reason_code = 0x10;
  EXPECT_EQ(DescribePacket(puback), "PUBACK (id 9, reason 0x10)");
  MqttDisconnect disconnect;
  disconnect.reason_code = 0x8e;
  EXPECT_EQ(DescribePacket(disconnect), "DISCONNECT (reason 0x8e)");
  MqttConnect connect;
  connect.password = "mqtt-password";
  EXPECT_EQ(DescribePacket(connect), "CONNECT");
  EXPECT_EQ(DescribePacket(MqttPingresp{}), "PINGRESP");
}

TEST(MqttPacketTest, DescribePacketsWalksFixedHeaders) {
  // PINGREQ (0xC0 0x00), then a PUBLISH whose remaining length 200 takes two
  // bytes (0xC8 0x01), then a cut-off header.
  std::string bytes("\xC0\x00", 2);
  bytes += std::string("\x32\xC8\x01", 3) + std::string(200, 'x');
  EXPECT_EQ(DescribePackets(bytes), "PINGREQ 2 bytes, PUBLISH 203 bytes");
  EXPECT_EQ(DescribePackets(bytes + "\xE0"),
            "PINGREQ 2 bytes, PUBLISH 203 bytes, (malformed)");
  EXPECT_EQ(DescribePackets(std::string("\x30\x05\x00", 3)), "(malformed)");
  EXPECT_EQ(DescribePackets(""), "");
}

TEST(MqttPacketTest, EqualityLooksAtEveryField) {
  MqttPublish a;
  a.topic = "t";
  MqttPublish b = a;
  EXPECT_TRUE(a == b);
  b.properties.user_properties.push_back({"k", "v"});
  EXPECT_FALSE(a == b);
  EXPECT_FALSE(b.properties.empty());
  b = a;
  b.topic_alias = 1;
  EXPECT_FALSE(a == b);

  MqttConnect c;
  MqttConnect d;
  d.will.emplace().properties.content_type = "x";
  EXPECT_FALSE(c == d);
  c.will.emplace();
  EXPECT_FALSE(c == d);
  c.will->properties.content_type = "x";
  EXPECT_TRUE(c == d);

  MqttConnack e;
  MqttConnack f;
  f.properties.server_reference = "s";
  EXPECT_FALSE(e == f);
}

}  // namespace
}  // namespace cloudlink::mqtt
