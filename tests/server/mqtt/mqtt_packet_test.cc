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
