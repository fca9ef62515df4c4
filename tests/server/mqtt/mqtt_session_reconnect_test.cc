// MqttSession: what a new connection sends again.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/variant.h"
#include "server/common/error.h"
#include "server/mqtt/mqtt_packet.h"
#include "server/mqtt/mqtt_session.h"
#include "tests/server/mqtt/mqtt_test_broker.h"

namespace cloudlink::mqtt {
namespace {

using Type = SessionEvent::Type;

TEST(MqttSessionTest, ReconnectResendsUnackedWithDupInOrder) {
  Broker broker;
  broker.Connect();
  const uint64_t m1 = broker.Publish("t", "m1", 1);
  const uint64_t m2 = broker.Publish("t", "m2", 1);
  const uint64_t m3 = broker.Publish("t", "m3", 1);
  broker.Publish("t", "q0-sent", 0);
  std::vector<MqttPublish> sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 4u);
  ASSERT_TRUE(broker.Send(Puback(sent[1].packet_id)).ok());
  broker.session().TakeEvents();

  // The connection drops; meanwhile more messages come.
  broker.Begin();
  std::vector<MqttPacket> connect = broker.Written();
  ASSERT_EQ(connect.size(), 1u);
  EXPECT_TRUE(absl::holds_alternative<MqttConnect>(connect[0]));
  EXPECT_EQ(broker.session().in_flight(), 0u);
  broker.Publish("t", "q0-late", 0);
  const uint64_t m4 = broker.Publish("t", "m4", 1);
  EXPECT_TRUE(broker.Written().empty());
  EXPECT_EQ(broker.session().queued(), 4u);

  ASSERT_TRUE(broker.Send(Connack()).ok());
  std::vector<MqttPacket> after = broker.Written();
  ASSERT_FALSE(after.empty());
  EXPECT_TRUE(absl::holds_alternative<MqttSubscribe>(after[0]));
  std::vector<MqttPublish> resent = Publishes(after);
  ASSERT_EQ(resent.size(), 4u);
  EXPECT_EQ(resent[0].payload, "m1");
  EXPECT_TRUE(resent[0].dup);
  EXPECT_EQ(resent[1].payload, "m3");
  EXPECT_TRUE(resent[1].dup);
  EXPECT_EQ(resent[2].payload, "q0-late");
  EXPECT_FALSE(resent[2].dup);
  EXPECT_EQ(resent[2].qos, 0);
  EXPECT_EQ(resent[3].payload, "m4");
  EXPECT_FALSE(resent[3].dup);
  EXPECT_EQ(broker.session().counters().resent, 2u);

  // The acks of the new connection name the original message ids.
  broker.session().TakeEvents();
  ASSERT_TRUE(broker.Send(Puback(resent[0].packet_id)).ok());
  ASSERT_TRUE(broker.Send(Puback(resent[1].packet_id)).ok());
  ASSERT_TRUE(broker.Send(Puback(resent[3].packet_id)).ok());
  std::vector<SessionEvent> events = broker.session().TakeEvents();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].message_id, m1);
  EXPECT_EQ(events[1].message_id, m3);
  EXPECT_EQ(events[2].message_id, m4);
  EXPECT_NE(m2, m1);
}

TEST(MqttSessionTest, ReconnectKeepsOriginalOrderAcrossPacketIdWrap) {
  Broker broker;
  broker.Connect();
  // Use up packet ids until the next one is 65535.
  uint16_t last = 0;
  while (last != 65534) {
    broker.Publish("t", "filler", 1);
    std::vector<MqttPublish> sent = Publishes(broker.Written());
    ASSERT_EQ(sent.size(), 1u);
    last = sent[0].packet_id;
    ASSERT_TRUE(broker.Send(Puback(last)).ok());
  }
  broker.session().TakeEvents();
  broker.Publish("t", "a", 1);
  broker.Publish("t", "b", 1);
  broker.Publish("t", "c", 1);
  std::vector<MqttPublish> sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].packet_id, 65535);
  EXPECT_LT(sent[1].packet_id, sent[0].packet_id);  // wrapped

  std::vector<MqttPublish> resent = Publishes(broker.Connect());
  ASSERT_EQ(resent.size(), 3u);
  EXPECT_EQ(resent[0].payload, "a");
  EXPECT_EQ(resent[1].payload, "b");
  EXPECT_EQ(resent[2].payload, "c");
}

TEST(MqttSessionTest, ResendRespectsNewReceiveMaximum) {
  Broker broker;
  broker.Connect();
  for (int i = 0; i < 4; ++i) broker.Publish("t", absl::StrCat("m", i), 1);
  ASSERT_EQ(Publishes(broker.Written()).size(), 4u);
  MqttConnack connack = Connack();
  connack.properties.receive_maximum = 2;
  std::vector<MqttPublish> resent = Publishes(broker.Connect(connack));
  ASSERT_EQ(resent.size(), 2u);
  EXPECT_EQ(resent[0].payload, "m0");
  EXPECT_EQ(resent[1].payload, "m1");
  EXPECT_EQ(broker.session().queued(), 2u);
  ASSERT_TRUE(broker.Send(Puback(resent[0].packet_id)).ok());
  std::vector<MqttPublish> more = Publishes(broker.Written());
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].payload, "m2");
  EXPECT_TRUE(more[0].dup);
}

}  // namespace
}  // namespace cloudlink::mqtt
