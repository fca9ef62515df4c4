#include "server/mqtt/mqtt_session.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/common/error.h"
#include "server/mqtt/mqtt_codec.h"
#include "server/mqtt/mqtt_packet.h"

namespace cloudlink::mqtt {
namespace {

using Type = SessionEvent::Type;

SessionConfig TestConfig() {
  SessionConfig config;
  config.client_id = "node-client";
  config.username = "node-user";
  config.password = "s3cret-pass";
  config.will_topic = "/agent/claim-1/outbound/v1/agent-connection";
  config.will_payload = std::string("\x08\x00\x01", 3);
  config.subscribe_filter = "/agent/claim-1/inbound/v1/cmd";
  return config;
}

MqttConnack Connack(uint8_t reason = mqtt_reason::kSuccess) {
  MqttConnack connack;
  connack.reason_code = reason;
  return connack;
}

MqttPuback Puback(uint16_t packet_id, uint8_t reason = 0) {
  MqttPuback ack;
  ack.packet_id = packet_id;
  ack.reason_code = reason;
  return ack;
}

// Plays the broker: decodes what the session writes and feeds it encoded
// answers, cut into pieces of `chunk` bytes (0: all at once).
class Broker {
 public:
  explicit Broker(SessionConfig config = TestConfig(), size_t chunk = 0)
      : session_(std::move(config)), chunk_(chunk) {}

  MqttSession& session() { return session_; }
  absl::Time now() const { return now_; }
  void Advance(absl::Duration d) { now_ += d; }
  void set_chunk(size_t chunk) { chunk_ = chunk; }

  void Begin() { session_.Begin(now_, &out_); }

  // Every packet the session wrote since the last call.
  std::vector<MqttPacket> Written() {
    std::vector<MqttPacket> packets;
    MqttDecoder decoder(kMqttMaxPacketSize);
    decoder.Feed(out_);
    out_.clear();
    while (true) {
      absl::StatusOr<absl::optional<MqttPacket>> next = decoder.Next();
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok() || !next->has_value()) break;
      packets.push_back(std::move(**next));
    }
    EXPECT_EQ(decoder.buffered_bytes(), 0u) << "a partial packet was written";
    return packets;
  }

  // The raw bytes the session wrote since the last call.
  std::string TakeBytes() {
    std::string bytes;
    bytes.swap(out_);
    return bytes;
  }

  absl::Status SendBytes(absl::string_view bytes) {
    if (chunk_ == 0) return session_.OnBytes(bytes, now_, &out_);
    for (size_t pos = 0; pos < bytes.size(); pos += chunk_) {
      absl::Status status =
          session_.OnBytes(bytes.substr(pos, chunk_), now_, &out_);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

  absl::Status Send(const MqttPacket& packet) {
    std::string bytes;
    absl::Status encoded = EncodePacket(packet, &bytes);
    EXPECT_TRUE(encoded.ok()) << encoded;
    return SendBytes(bytes);
  }

  // Begin + CONNACK; returns the packets written after the CONNACK.
  std::vector<MqttPacket> Connect(MqttConnack connack = Connack()) {
    Begin();
    std::vector<MqttPacket> connect = Written();
    EXPECT_EQ(connect.size(), 1u);
    absl::Status status = Send(connack);
    EXPECT_TRUE(status.ok()) << status;
    return Written();
  }

  uint64_t Publish(std::string topic, std::string payload, uint8_t qos) {
    return session_.Publish(std::move(topic), std::move(payload), qos, now_,
                            &out_);
  }

  absl::Status Tick() { return session_.OnTick(now_, &out_); }
  void Disconnect() { session_.Disconnect(&out_); }

 private:
  MqttSession session_;
  size_t chunk_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
  std::string out_;
};

// The PUBLISH packets among `packets`, in order.
std::vector<MqttPublish> Publishes(const std::vector<MqttPacket>& packets) {
  std::vector<MqttPublish> out;
  for (const MqttPacket& p : packets) {
    if (const auto* publish = absl::get_if<MqttPublish>(&p)) {
      out.push_back(*publish);
    }
  }
  return out;
}

std::vector<Type> Types(const std::vector<SessionEvent>& events) {
  std::vector<Type> out;
  for (const SessionEvent& e : events) out.push_back(e.type);
  return out;
}

// --- CONNECT / CONNACK -------------------------------------------------------

TEST(MqttSessionTest, BeginWritesConnectWithAllFields) {
  Broker broker;
  broker.Begin();
  std::vector<MqttPacket> written = broker.Written();
  ASSERT_EQ(written.size(), 1u);
  const auto* connect = absl::get_if<MqttConnect>(&written[0]);
  ASSERT_NE(connect, nullptr);
  EXPECT_TRUE(connect->clean_start);
  EXPECT_EQ(connect->keep_alive_seconds, 60);
  EXPECT_EQ(connect->client_id, "node-client");
  EXPECT_EQ(connect->username, absl::optional<std::string>("node-user"));
  EXPECT_EQ(connect->password, absl::optional<std::string>("s3cret-pass"));
  ASSERT_TRUE(connect->will.has_value());
  EXPECT_EQ(connect->will->topic,
            "/agent/claim-1/outbound/v1/agent-connection");
  EXPECT_EQ(connect->will->payload, std::string("\x08\x00\x01", 3));
  EXPECT_EQ(connect->will->qos, 1);
  EXPECT_FALSE(connect->will->retain);
  EXPECT_EQ(connect->properties.topic_alias_maximum,
            absl::optional<uint16_t>(65535));
  EXPECT_EQ(connect->properties.maximum_packet_size,
            absl::optional<uint32_t>(1u << 20));
  EXPECT_FALSE(broker.session().connected());
  EXPECT_TRUE(broker.session().TakeEvents().empty());
}

TEST(MqttSessionTest, NoWillWithoutWillTopic) {
  SessionConfig config = TestConfig();
  config.will_topic = "";
  Broker broker(config);
  broker.Begin();
  std::vector<MqttPacket> written = broker.Written();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_FALSE(absl::get<MqttConnect>(written[0]).will.has_value());
}

TEST(MqttSessionTest, ConnackSuccessSubscribesAndReportsConnected) {
  Broker broker;
  std::vector<MqttPacket> after = broker.Connect();
  ASSERT_EQ(after.size(), 1u);
  const auto* subscribe = absl::get_if<MqttSubscribe>(&after[0]);
  ASSERT_NE(subscribe, nullptr);
  EXPECT_NE(subscribe->packet_id, 0);
  ASSERT_EQ(subscribe->subscriptions.size(), 1u);
  EXPECT_EQ(subscribe->subscriptions[0].topic_filter,
            "/agent/claim-1/inbound/v1/cmd");
  EXPECT_EQ(subscribe->subscriptions[0].max_qos, 1);
  EXPECT_TRUE(broker.session().connected());
  EXPECT_EQ(Types(broker.session().TakeEvents()),
            std::vector<Type>{Type::kConnected});
}

TEST(MqttSessionTest, NoSubscribeWithoutFilter) {
  SessionConfig config = TestConfig();
  config.subscribe_filter = "";
  Broker broker(config);
  EXPECT_TRUE(broker.Connect().empty());
  EXPECT_TRUE(broker.session().connected());
}

TEST(MqttSessionTest, PacketsBeforeConnackAreProtocolErrors) {
  MqttPublish publish;
  publish.topic = "t";
  publish.payload = "x";
  const std::vector<MqttPacket> early = {publish, Puback(1), MqttPingresp(),
                                         MqttSuback{1, {}, {}, {1}}};
  for (const MqttPacket& packet : early) {
    Broker broker;
    broker.Begin();
    broker.Written();
    absl::Status status = broker.Send(packet);
    EXPECT_EQ(ReasonOf(status), "MQTT_PROTOCOL_ERROR")
        << MqttPacketTypeName(TypeOf(packet)) << ": " << status;
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
    EXPECT_FALSE(broker.session().connected());
    EXPECT_TRUE(broker.Written().empty());
  }
}

TEST(MqttSessionTest, OnBytesBeforeBeginFails) {
  MqttSession session(TestConfig());
  std::string out;
  std::string connack;
  ASSERT_TRUE(EncodeConnack(Connack(), &connack).ok());
  EXPECT_FALSE(session.OnBytes(connack, absl::Now(), &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(MqttSessionTest, SecondConnackIsProtocolError) {
  Broker broker;
  broker.Connect();
  EXPECT_EQ(ReasonOf(broker.Send(Connack())), "MQTT_PROTOCOL_ERROR");
  EXPECT_FALSE(broker.session().connected());
}

TEST(MqttSessionTest, ConnackRefusalsMapToReasons) {
  const struct {
    uint8_t code;
    const char* reason;
    const char* hex;
  } kCases[] = {
      {0x86, "MQTT_AUTH_FAILED", "0x86"},
      {0x87, "MQTT_AUTH_FAILED", "0x87"},
      {0x8C, "MQTT_AUTH_FAILED", "0x8C"},
      {0x88, "MQTT_CONNECT_REFUSED", "0x88"},
      {0x8A, "MQTT_CONNECT_REFUSED", "0x8A"},
  };
  for (const auto& c : kCases) {
    Broker broker;
    broker.Begin();
    broker.Written();
    MqttConnack connack = Connack(c.code);
    connack.properties.reason_string = "go away";
    absl::Status status = broker.Send(connack);
    EXPECT_EQ(ReasonOf(status), c.reason) << status;
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
    EXPECT_TRUE(absl::StrContains(status.message(), c.hex)) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), "go away")) << status;
    EXPECT_FALSE(absl::StrContains(status.message(), "s3cret")) << status;
    EXPECT_FALSE(broker.session().connected());
    EXPECT_TRUE(broker.Written().empty()) << "nothing after a refusal";
    EXPECT_TRUE(broker.session().TakeEvents().empty());
  }
}

TEST(MqttSessionTest, InboundPacketOverOurMaximumIsTooLarge) {
  SessionConfig config = TestConfig();
  config.max_packet_size = 64;
  Broker broker(config);
  broker.Connect();
  MqttPublish publish;
  publish.topic = "t";
  publish.payload = std::string(100, 'x');
  EXPECT_EQ(ReasonOf(broker.Send(publish)), "MQTT_PACKET_TOO_LARGE");
}

TEST(MqttSessionTest, ClientOnlyPacketFromServerIsProtocolError) {
  Broker broker;
  broker.Connect();
  EXPECT_EQ(ReasonOf(broker.Send(MqttPingreq())), "MQTT_PROTOCOL_ERROR");
}

// --- Publishing --------------------------------------------------------------

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

// --- Reconnect ---------------------------------------------------------------

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

// --- Inbound -----------------------------------------------------------------

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

// --- Keepalive ---------------------------------------------------------------

TEST(MqttSessionTest, NoTickBeforeConnack) {
  Broker broker;
  broker.Begin();
  EXPECT_EQ(broker.session().NextTick(), absl::InfiniteFuture());
  broker.Advance(absl::Seconds(100));
  EXPECT_TRUE(broker.Tick().ok());
  std::vector<MqttPacket> written = broker.Written();
  EXPECT_EQ(written.size(), 1u) << "only the CONNECT";
}

TEST(MqttSessionTest, PingreqAfterIdleAndTimeoutWithoutPingresp) {
  Broker broker;
  const absl::Time t0 = broker.now();
  broker.Connect();
  EXPECT_EQ(broker.session().NextTick(), t0 + absl::Seconds(45));

  broker.Advance(absl::Seconds(45) - absl::Milliseconds(1));
  EXPECT_TRUE(broker.Tick().ok());
  EXPECT_TRUE(broker.Written().empty()) << "no PINGREQ before 45 s";

  broker.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(broker.Tick().ok());
  std::vector<MqttPacket> written = broker.Written();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_TRUE(absl::holds_alternative<MqttPingreq>(written[0]));
  const absl::Time ping = broker.now();
  EXPECT_EQ(broker.session().NextTick(), ping + absl::Seconds(60));

  // Ticks while the PINGRESP is pending send nothing more.
  broker.Advance(absl::Seconds(59));
  EXPECT_TRUE(broker.Tick().ok());
  EXPECT_TRUE(broker.Written().empty());

  broker.Advance(absl::Seconds(1));
  absl::Status status = broker.Tick();
  EXPECT_EQ(ReasonOf(status), "KEEPALIVE_TIMEOUT") << status;
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(broker.session().connected());
}

TEST(MqttSessionTest, PingrespClearsTheTimeout) {
  Broker broker;
  broker.Connect();
  broker.Advance(absl::Seconds(45));
  ASSERT_TRUE(broker.Tick().ok());
  ASSERT_EQ(broker.Written().size(), 1u);
  const absl::Time ping = broker.now();
  broker.Advance(absl::Seconds(10));
  ASSERT_TRUE(broker.Send(MqttPingresp()).ok());
  EXPECT_EQ(broker.session().NextTick(), ping + absl::Seconds(45));

  broker.Advance(absl::Seconds(50));  // past ping + 60 s
  EXPECT_TRUE(broker.Tick().ok());
  std::vector<MqttPacket> written = broker.Written();
  ASSERT_EQ(written.size(), 1u) << "the next PINGREQ, no timeout";
  EXPECT_TRUE(absl::holds_alternative<MqttPingreq>(written[0]));
  EXPECT_TRUE(broker.session().connected());
}

TEST(MqttSessionTest, SendingPostponesThePing) {
  Broker broker;
  const absl::Time t0 = broker.now();
  broker.Connect();
  broker.Advance(absl::Seconds(30));
  broker.Publish("t", "x", 0);
  ASSERT_EQ(broker.Written().size(), 1u);
  EXPECT_EQ(broker.session().NextTick(), t0 + absl::Seconds(75));
  broker.Advance(absl::Seconds(44));
  EXPECT_TRUE(broker.Tick().ok());
  EXPECT_TRUE(broker.Written().empty());
  // Receiving does not count as sending.
  MqttPublish inbound;
  inbound.topic = "in";
  ASSERT_TRUE(broker.Send(inbound).ok());
  broker.Advance(absl::Seconds(1));
  EXPECT_TRUE(broker.Tick().ok());
  std::vector<MqttPacket> written = broker.Written();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_TRUE(absl::holds_alternative<MqttPingreq>(written[0]));
}

TEST(MqttSessionTest, ServerKeepAliveShortensThePingInterval) {
  Broker broker;
  const absl::Time t0 = broker.now();
  MqttConnack connack = Connack();
  connack.properties.server_keep_alive_seconds = 20;
  broker.Connect(connack);
  // The server closes after 1.5 x 20 s of silence; ping well before 20 s.
  EXPECT_LE(broker.session().NextTick(), t0 + absl::Seconds(20));
  broker.Advance(absl::Seconds(20));
  ASSERT_TRUE(broker.Tick().ok());
  std::vector<MqttPacket> written = broker.Written();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_TRUE(absl::holds_alternative<MqttPingreq>(written[0]));

  // The next connection without it goes back to 45 s.
  const absl::Time t1 = broker.now();
  broker.Connect();
  EXPECT_EQ(broker.session().NextTick(), t1 + absl::Seconds(45));
}

// --- Counters ----------------------------------------------------------------

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

// --- Byte chunking -----------------------------------------------------------

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

namespace cloudlink::mqtt {
namespace {

TEST(MqttSessionTest, SubscribePacketIdIsNotReusedBeforeSuback) {
  Broker broker;
  std::vector<MqttPacket> after = broker.Connect();
  ASSERT_FALSE(after.empty());
  const auto* subscribe = absl::get_if<MqttSubscribe>(&after[0]);
  ASSERT_NE(subscribe, nullptr);
  const uint16_t subscribe_id = subscribe->packet_id;
  // Publish and acknowledge enough messages for the ids to wrap around twice.
  for (int i = 0; i < 140000; ++i) {
    broker.Publish("t", "x", 1);
    std::vector<MqttPublish> sent = Publishes(broker.Written());
    ASSERT_EQ(sent.size(), 1u);
    ASSERT_NE(sent[0].packet_id, subscribe_id) << "at message " << i;
    ASSERT_TRUE(broker.Send(Puback(sent[0].packet_id)).ok());
  }
  // After the SUBACK the id is free again.
  MqttSuback suback;
  suback.packet_id = subscribe_id;
  suback.reason_codes = {1};
  ASSERT_TRUE(broker.Send(suback).ok());
  bool reused = false;
  for (int i = 0; i < 70000 && !reused; ++i) {
    broker.Publish("t", "x", 1);
    std::vector<MqttPublish> sent = Publishes(broker.Written());
    ASSERT_EQ(sent.size(), 1u);
    reused = sent[0].packet_id == subscribe_id;
    ASSERT_TRUE(broker.Send(Puback(sent[0].packet_id)).ok());
  }
  EXPECT_TRUE(reused);
}

}  // namespace
}  // namespace cloudlink::mqtt
