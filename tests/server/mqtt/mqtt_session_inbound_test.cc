// MqttSession: packets from the server, whole and cut into pieces.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/variant.h"
#include "server/common/error.h"
#include "server/mqtt/mqtt_encoder.h"
#include "server/mqtt/mqtt_packet.h"
#include "server/mqtt/mqtt_session.h"
#include "tests/server/mqtt/mqtt_test_broker.h"

namespace cloudlink::mqtt {
namespace {

using Type = SessionEvent::Type;

// --- Inbound
// ---------------------------------------------------------------------

TEST(MqttSessionTest, InboundQos1PublishIsAckedAndReported) {
  Broker broker;
  broker.Connect();
  broker.session().TakeEvents();
  MqttPublish publish;
  publish.qos = 1;
  publish.packet_id = 77;
  publish.topic = "/agent/claim-1/inbound/v1/cmd";
  publish.payload = std::string("\x01\x00\x02", 3);
  ASSERT_TRUE(broker.Send(publish).ok());
  std::vector<MqttPacket> written = broker.Written();
  ASSERT_EQ(written.size(), 1u);
  const auto* ack = absl::get_if<MqttPuback>(&written[0]);
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(ack->packet_id, 77);
  EXPECT_EQ(ack->reason_code, 0);
  std::vector<SessionEvent> events = broker.session().TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, Type::kMessage);
  EXPECT_EQ(events[0].topic, "/agent/claim-1/inbound/v1/cmd");
  EXPECT_EQ(events[0].payload, std::string("\x01\x00\x02", 3));

  // QoS 0 is reported without an ack.
  publish.qos = 0;
  publish.packet_id = 0;
  ASSERT_TRUE(broker.Send(publish).ok());
  EXPECT_TRUE(broker.Written().empty());
  EXPECT_EQ(Types(broker.session().TakeEvents()),
            std::vector<Type>{Type::kMessage});
}

TEST(MqttSessionTest, InboundTopicAliases) {
  SessionConfig config = TestConfig();
  config.topic_alias_maximum = 10;
  Broker broker(config);
  broker.Connect();
  broker.session().TakeEvents();

  MqttPublish first;
  first.topic = "in/a";
  first.topic_alias = 3;
  first.payload = "1";
  ASSERT_TRUE(broker.Send(first).ok());
  MqttPublish again;
  again.topic_alias = 3;
  again.payload = "2";
  ASSERT_TRUE(broker.Send(again).ok());
  // Re-pointing an alias is allowed.
  MqttPublish repoint;
  repoint.topic = "in/b";
  repoint.topic_alias = 3;
  repoint.payload = "3";
  ASSERT_TRUE(broker.Send(repoint).ok());
  ASSERT_TRUE(broker.Send(again).ok());
  std::vector<SessionEvent> events = broker.session().TakeEvents();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].topic, "in/a");
  EXPECT_EQ(events[1].topic, "in/a");
  EXPECT_EQ(events[1].payload, "2");
  EXPECT_EQ(events[2].topic, "in/b");
  EXPECT_EQ(events[3].topic, "in/b");

  MqttPublish unknown;
  unknown.topic_alias = 4;
  unknown.payload = "x";
  absl::Status status = broker.Send(unknown);
  EXPECT_EQ(ReasonOf(status), "MQTT_PROTOCOL_ERROR") << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "alias")) << status;
  EXPECT_FALSE(broker.session().connected());
  EXPECT_TRUE(broker.session().TakeEvents().empty());
}

TEST(MqttSessionTest, InboundAliasAboveOurMaximumIsError) {
  SessionConfig config = TestConfig();
  config.topic_alias_maximum = 10;
  Broker broker(config);
  broker.Connect();
  MqttPublish publish;
  publish.topic = "in/a";
  publish.topic_alias = 11;
  EXPECT_EQ(ReasonOf(broker.Send(publish)), "MQTT_PROTOCOL_ERROR");
}

TEST(MqttSessionTest, InboundAliasesResetOnBegin) {
  Broker broker;
  broker.Connect();
  MqttPublish first;
  first.topic = "in/a";
  first.topic_alias = 1;
  ASSERT_TRUE(broker.Send(first).ok());
  broker.Connect();
  MqttPublish alias_only;
  alias_only.topic_alias = 1;
  EXPECT_EQ(ReasonOf(broker.Send(alias_only)), "MQTT_PROTOCOL_ERROR");
}

TEST(MqttSessionTest, InboundQos2IsProtocolError) {
  Broker broker;
  broker.Connect();
  MqttPublish publish;
  publish.qos = 2;
  publish.packet_id = 5;
  publish.topic = "t";
  EXPECT_EQ(ReasonOf(broker.Send(publish)), "MQTT_PROTOCOL_ERROR");
  EXPECT_TRUE(broker.Written().empty()) << "no PUBACK for a refused packet";
}

TEST(MqttSessionTest, SubackFailureReportsSubscribeFailed) {
  Broker broker;
  std::vector<MqttPacket> after = broker.Connect();
  ASSERT_EQ(after.size(), 1u);
  const uint16_t id = absl::get<MqttSubscribe>(after[0]).packet_id;
  broker.session().TakeEvents();
  MqttSuback suback;
  suback.packet_id = id;
  suback.reason_codes = {mqtt_reason::kNotAuthorized};
  ASSERT_TRUE(broker.Send(suback).ok());
  std::vector<SessionEvent> events = broker.session().TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, Type::kSubscribeFailed);
  EXPECT_EQ(events[0].reason_code, mqtt_reason::kNotAuthorized);
  EXPECT_TRUE(
      absl::StrContains(events[0].reason, "/agent/claim-1/inbound/v1/cmd"));

  // Granted QoS 1 is no event.
  suback.reason_codes = {mqtt_reason::kGrantedQos1};
  ASSERT_TRUE(broker.Send(suback).ok());
  EXPECT_TRUE(broker.session().TakeEvents().empty());
}

TEST(MqttSessionTest, ServerDisconnectNamesReason) {
  Broker broker;
  broker.Connect();
  MqttDisconnect disconnect;
  disconnect.reason_code = mqtt_reason::kSessionTakenOver;
  disconnect.reason_string = "another node took the session";
  absl::Status status = broker.Send(disconnect);
  EXPECT_EQ(ReasonOf(status), "SERVER_DISCONNECT");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(status.message(), "0x8E")) << status;
  EXPECT_TRUE(
      absl::StrContains(status.message(), "another node took the session"));
  EXPECT_FALSE(broker.session().connected());
}

TEST(MqttSessionTest, DisconnectWritesNormalDisconnect) {
  Broker broker;
  broker.Connect();
  broker.Publish("t", "x", 1);
  broker.Written();
  broker.Disconnect();
  EXPECT_EQ(broker.TakeBytes(), std::string("\xE0\x00", 2));
  EXPECT_FALSE(broker.session().connected());
  // Unacknowledged messages stay for the next connection.
  EXPECT_EQ(Publishes(broker.Connect()).size(), 1u);
}

// --- Byte chunking
// ---------------------------------------------------------------

// A whole exchange with the broker's bytes cut into pieces of every size.
class MqttSessionChunkTest : public ::testing::TestWithParam<size_t> {};

TEST_P(MqttSessionChunkTest, FullExchange) {
  Broker broker(TestConfig(), GetParam());
  MqttConnack connack = Connack();
  connack.properties.receive_maximum = 2;
  connack.properties.topic_alias_maximum = 4;
  std::vector<MqttPacket> after = broker.Connect(connack);
  ASSERT_EQ(after.size(), 1u);
  const uint16_t sub_id = absl::get<MqttSubscribe>(after[0]).packet_id;
  for (int i = 0; i < 3; ++i) broker.Publish("out", absl::StrCat("m", i), 1);
  std::vector<MqttPublish> sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 2u);

  // SUBACK, PUBACK, an inbound QoS 1 PUBLISH with alias, a PINGRESP and the
  // second PUBACK, coalesced in one buffer.
  std::string bytes;
  MqttSuback suback;
  suback.packet_id = sub_id;
  suback.reason_codes = {1};
  ASSERT_TRUE(EncodeSuback(suback, &bytes).ok());
  ASSERT_TRUE(EncodePuback(Puback(sent[0].packet_id), &bytes).ok());
  MqttPublish inbound;
  inbound.qos = 1;
  inbound.packet_id = 9;
  inbound.topic = "in/cmd";
  inbound.topic_alias = 2;
  inbound.payload = std::string(300, 'p');
  ASSERT_TRUE(EncodePublish(inbound, &bytes).ok());
  inbound.topic = "";
  inbound.packet_id = 10;
  ASSERT_TRUE(EncodePublish(inbound, &bytes).ok());
  EncodePingresp(&bytes);
  MqttPuback ack = Puback(sent[1].packet_id, 0x10);
  ack.reason_string = "nobody listens";
  ASSERT_TRUE(EncodePuback(ack, &bytes).ok());
  ASSERT_TRUE(broker.SendBytes(bytes).ok());

  std::vector<MqttPacket> written = broker.Written();
  std::vector<uint16_t> acked;
  std::vector<std::string> payloads;
  for (const MqttPacket& p : written) {
    if (const auto* a = absl::get_if<MqttPuback>(&p)) {
      acked.push_back(a->packet_id);
    }
    if (const auto* pub = absl::get_if<MqttPublish>(&p)) {
      payloads.push_back(pub->payload);
    }
  }
  EXPECT_EQ(acked, (std::vector<uint16_t>{9, 10}));
  EXPECT_EQ(payloads, std::vector<std::string>{"m2"});

  std::vector<SessionEvent> events = broker.session().TakeEvents();
  EXPECT_EQ(Types(events),
            (std::vector<Type>{Type::kConnected, Type::kAcked, Type::kMessage,
                               Type::kMessage, Type::kAcked}));
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[2].topic, "in/cmd");
  EXPECT_EQ(events[3].topic, "in/cmd");
  EXPECT_EQ(events[3].payload, std::string(300, 'p'));
  EXPECT_TRUE(broker.session().connected());
}

TEST_P(MqttSessionChunkTest, ConnackRefusalSplit) {
  Broker broker(TestConfig(), GetParam());
  broker.Begin();
  broker.Written();
  MqttConnack connack = Connack(mqtt_reason::kNotAuthorized);
  connack.properties.reason_string = "who are you";
  EXPECT_EQ(ReasonOf(broker.Send(connack)), "MQTT_AUTH_FAILED");
}

INSTANTIATE_TEST_SUITE_P(Chunks, MqttSessionChunkTest,
                         ::testing::Values(1, 2, 3, 5, 7, 13, 64, 0));

}  // namespace
}  // namespace cloudlink::mqtt
