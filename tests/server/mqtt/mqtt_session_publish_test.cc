// MqttSession: publishing within the server's limits, and its counters.

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

// --- Publishing
// ------------------------------------------------------------------

TEST(MqttSessionTest, ReceiveMaximumLimitsInFlightAndPubacksReleaseMore) {
  Broker broker;
  MqttConnack connack = Connack();
  connack.properties.receive_maximum = 3;
  broker.Connect(connack);
  EXPECT_EQ(broker.session().server_receive_maximum(), 3);
  broker.session().TakeEvents();

  std::vector<uint64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(broker.Publish("t", absl::StrCat("m", i), 1));
  }
  std::vector<MqttPublish> sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(broker.session().in_flight(), 3u);
  EXPECT_EQ(broker.session().queued(), 2u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sent[i].payload, absl::StrCat("m", i));
    EXPECT_EQ(sent[i].qos, 1);
    EXPECT_FALSE(sent[i].dup);
  }

  // A QoS 0 message behind the blocked ones keeps its place.
  broker.Publish("t", "q0", 0);
  EXPECT_TRUE(broker.Written().empty());

  ASSERT_TRUE(broker.Send(Puback(sent[1].packet_id)).ok());
  std::vector<MqttPublish> more = Publishes(broker.Written());
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].payload, "m3");
  EXPECT_EQ(broker.session().in_flight(), 3u);
  std::vector<SessionEvent> events = broker.session().TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, Type::kAcked);
  EXPECT_EQ(events[0].message_id, ids[1]);

  ASSERT_TRUE(broker.Send(Puback(sent[0].packet_id)).ok());
  more = Publishes(broker.Written());
  ASSERT_EQ(more.size(), 2u);
  EXPECT_EQ(more[0].payload, "m4");
  EXPECT_EQ(more[1].payload, "q0");
  EXPECT_EQ(more[1].qos, 0);
  EXPECT_EQ(broker.session().queued(), 0u);
  EXPECT_EQ(broker.session().in_flight(), 3u);

  // Packet ids in flight are distinct.
  EXPECT_NE(more[0].packet_id, sent[2].packet_id);
  EXPECT_NE(more[0].packet_id, sent[1].packet_id);  // may reuse, not collide
}

TEST(MqttSessionTest, WithoutReceiveMaximumManyGoOutAtOnce) {
  Broker broker;
  broker.Connect();
  EXPECT_EQ(broker.session().server_receive_maximum(), 65535);
  for (int i = 0; i < 100; ++i) broker.Publish("t", "x", 1);
  EXPECT_EQ(Publishes(broker.Written()).size(), 100u);
  EXPECT_EQ(broker.session().in_flight(), 100u);
}

TEST(MqttSessionTest, PublishBeforeConnackIsQueued) {
  Broker broker;
  broker.Begin();
  broker.Written();
  broker.Publish("t", "early", 1);
  EXPECT_TRUE(broker.Written().empty());
  EXPECT_EQ(broker.session().queued(), 1u);
  ASSERT_TRUE(broker.Send(Connack()).ok());
  std::vector<MqttPacket> after = broker.Written();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_TRUE(absl::holds_alternative<MqttSubscribe>(after[0]));
  EXPECT_EQ(absl::get<MqttPublish>(after[1]).payload, "early");
}

TEST(MqttSessionTest, OversizeMessageFailsAndIsNotWritten) {
  Broker broker;
  MqttConnack connack = Connack();
  connack.properties.maximum_packet_size = 100;
  connack.properties.topic_alias_maximum = 10;
  broker.Connect(connack);
  EXPECT_EQ(broker.session().server_max_packet_size(), 100u);
  broker.session().TakeEvents();

  const uint64_t big = broker.Publish("t/big", std::string(200, 'x'), 1);
  EXPECT_TRUE(broker.TakeBytes().empty());
  std::vector<SessionEvent> events = broker.session().TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, Type::kPublishFailed);
  EXPECT_EQ(events[0].message_id, big);
  EXPECT_EQ(events[0].reason_code, mqtt_reason::kPacketTooLarge);
  EXPECT_TRUE(absl::StartsWith(events[0].reason, "MQTT_PACKET_TOO_LARGE"))
      << events[0].reason;
  EXPECT_EQ(broker.session().in_flight(), 0u);
  EXPECT_EQ(broker.session().queued(), 0u);
  EXPECT_EQ(broker.session().counters().failed, 1u);
  EXPECT_EQ(broker.session().counters().published, 0u);

  // A small message to the same topic must still name it: the failed one
  // never told the server the alias.
  broker.Publish("t/big", "small", 1);
  std::vector<MqttPublish> sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].topic, "t/big");
  EXPECT_TRUE(sent[0].topic_alias.has_value());
}

TEST(MqttSessionTest, PacketAtExactlyMaximumSizeIsWritten) {
  Broker broker;
  MqttConnack connack = Connack();
  connack.properties.maximum_packet_size = 50;
  broker.Connect(connack);
  // QoS 0, no alias: 1 + 1 (length) + 2 + 1 (topic) + 1 (properties) + 44.
  broker.Publish("t", std::string(44, 'x'), 0);
  std::string bytes = broker.TakeBytes();
  EXPECT_EQ(bytes.size(), 50u);
  broker.Publish("t", std::string(45, 'x'), 0);
  EXPECT_TRUE(broker.TakeBytes().empty());
}

TEST(MqttSessionTest, TopicAliasesFollowServerMaximum) {
  Broker broker;
  MqttConnack connack = Connack();
  connack.properties.topic_alias_maximum = 2;
  broker.Connect(connack);
  EXPECT_EQ(broker.session().server_topic_alias_maximum(), 2);

  broker.Publish("topic/a", "1", 1);
  broker.Publish("topic/a", "2", 1);
  broker.Publish("topic/b", "3", 0);
  broker.Publish("topic/c", "4", 1);
  broker.Publish("topic/b", "5", 1);
  broker.Publish("topic/c", "6", 0);
  std::vector<MqttPublish> sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 6u);
  EXPECT_EQ(sent[0].topic, "topic/a");
  ASSERT_TRUE(sent[0].topic_alias.has_value());
  const uint16_t alias_a = *sent[0].topic_alias;
  EXPECT_EQ(sent[1].topic, "");
  EXPECT_EQ(sent[1].topic_alias, alias_a);
  EXPECT_EQ(sent[2].topic, "topic/b");
  ASSERT_TRUE(sent[2].topic_alias.has_value());
  const uint16_t alias_b = *sent[2].topic_alias;
  EXPECT_NE(alias_a, alias_b);
  EXPECT_GE(alias_b, 1);
  EXPECT_LE(alias_b, 2);
  // The aliases are used up: topic/c goes by name every time.
  EXPECT_EQ(sent[3].topic, "topic/c");
  EXPECT_FALSE(sent[3].topic_alias.has_value());
  EXPECT_EQ(sent[4].topic, "");
  EXPECT_EQ(sent[4].topic_alias, alias_b);
  EXPECT_EQ(sent[5].topic, "topic/c");
  EXPECT_FALSE(sent[5].topic_alias.has_value());
}

TEST(MqttSessionTest, NoAliasesWhenServerMaximumIsZeroOrAbsent) {
  for (bool absent : {true, false}) {
    Broker broker;
    MqttConnack connack = Connack();
    if (!absent) connack.properties.topic_alias_maximum = 0;
    broker.Connect(connack);
    broker.Publish("topic/a", "1", 1);
    broker.Publish("topic/a", "2", 0);
    std::vector<MqttPublish> sent = Publishes(broker.Written());
    ASSERT_EQ(sent.size(), 2u);
    for (const MqttPublish& p : sent) {
      EXPECT_EQ(p.topic, "topic/a");
      EXPECT_FALSE(p.topic_alias.has_value()) << "absent=" << absent;
    }
  }
}

TEST(MqttSessionTest, AliasesResetOnBegin) {
  Broker broker;
  MqttConnack connack = Connack();
  connack.properties.topic_alias_maximum = 5;
  broker.Connect(connack);
  broker.Publish("topic/a", "1", 0);
  broker.Publish("topic/a", "2", 0);
  std::vector<MqttPublish> sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].topic, "");

  broker.Connect(connack);
  broker.Publish("topic/a", "3", 0);
  sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].topic, "topic/a");
  EXPECT_TRUE(sent[0].topic_alias.has_value());

  // A server that grants no aliases on the next connection gets none.
  broker.Connect(Connack());
  broker.Publish("topic/a", "4", 0);
  sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].topic, "topic/a");
  EXPECT_FALSE(sent[0].topic_alias.has_value());
}

TEST(MqttSessionTest, ServerMaximumQosZeroDowngrades) {
  Broker broker;
  MqttConnack connack = Connack();
  connack.properties.maximum_qos = 0;
  broker.Connect(connack);
  broker.Publish("t", "x", 1);
  std::vector<MqttPublish> sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].qos, 0);
  EXPECT_EQ(broker.session().in_flight(), 0u);
}

TEST(MqttSessionTest, PubackFailureReportsPublishFailed) {
  Broker broker;
  broker.Connect();
  broker.session().TakeEvents();
  const uint64_t id = broker.Publish("t", "x", 1);
  std::vector<MqttPublish> sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 1u);
  MqttPuback ack = Puback(sent[0].packet_id, mqtt_reason::kQuotaExceeded);
  ack.reason_string = "slow down";
  ASSERT_TRUE(broker.Send(ack).ok());
  std::vector<SessionEvent> events = broker.session().TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, Type::kPublishFailed);
  EXPECT_EQ(events[0].message_id, id);
  EXPECT_EQ(events[0].reason_code, mqtt_reason::kQuotaExceeded);
  EXPECT_TRUE(absl::StrContains(events[0].reason, "0x97")) << events[0].reason;
  EXPECT_TRUE(absl::StrContains(events[0].reason, "slow down"));
  EXPECT_EQ(broker.session().in_flight(), 0u);
  EXPECT_EQ(broker.session().counters().failed, 1u);
  EXPECT_EQ(broker.session().counters().acked, 0u);

  // A refused message is not sent again after a reconnect.
  std::vector<MqttPacket> after = broker.Connect();
  EXPECT_TRUE(Publishes(after).empty());
}

TEST(MqttSessionTest, PubackBelow0x80IsSuccess) {
  Broker broker;
  broker.Connect();
  broker.session().TakeEvents();
  const uint64_t id = broker.Publish("t", "x", 1);
  std::vector<MqttPublish> sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_TRUE(
      broker
          .Send(Puback(sent[0].packet_id, mqtt_reason::kNoMatchingSubscribers))
          .ok());
  std::vector<SessionEvent> events = broker.session().TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, Type::kAcked);
  EXPECT_EQ(events[0].message_id, id);
  EXPECT_EQ(events[0].reason_code, mqtt_reason::kNoMatchingSubscribers);
}

TEST(MqttSessionTest, UnknownPubackIsIgnored) {
  Broker broker;
  broker.Connect();
  broker.session().TakeEvents();
  EXPECT_TRUE(broker.Send(Puback(4242)).ok());
  EXPECT_TRUE(broker.session().TakeEvents().empty());
  EXPECT_EQ(broker.session().counters().acked, 0u);
}

// --- Counters
// --------------------------------------------------------------------

TEST(MqttSessionTest, CountersCountWritesAcksResendsAndBytes) {
  Broker broker;
  broker.Connect();
  broker.Publish("t", "12345", 1);
  broker.Publish("t", "123", 1);
  broker.Publish("t", "1", 0);
  std::vector<MqttPublish> sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 3u);
  ASSERT_TRUE(broker.Send(Puback(sent[0].packet_id)).ok());
  SessionCounters c = broker.session().counters();
  EXPECT_EQ(c.published, 3u);
  EXPECT_EQ(c.acked, 1u);
  EXPECT_EQ(c.resent, 0u);
  EXPECT_EQ(c.failed, 0u);
  EXPECT_EQ(c.bytes, 9u);

  std::vector<MqttPublish> resent = Publishes(broker.Connect());
  ASSERT_EQ(resent.size(), 1u);
  ASSERT_TRUE(broker.Send(Puback(resent[0].packet_id)).ok());
  c = broker.session().counters();
  EXPECT_EQ(c.published, 4u);
  EXPECT_EQ(c.acked, 2u);
  EXPECT_EQ(c.resent, 1u);
  EXPECT_EQ(c.bytes, 12u);
}

}  // namespace
}  // namespace cloudlink::mqtt
