// MqttSession: CONNECT, CONNACK and keepalive.

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

// --- CONNECT / CONNACK
// -----------------------------------------------------------

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

TEST(MqttSessionTest, LoginFieldsUpToTheMqttLimitAreWritten) {
  SessionConfig config = TestConfig();
  config.client_id = std::string(kMqttMaxFieldLength, 'c');
  config.username = std::string(kMqttMaxFieldLength, 'u');
  config.password = std::string(kMqttMaxFieldLength, 'p');
  config.will_topic = std::string(kMqttMaxFieldLength, 't');
  config.will_payload = std::string(kMqttMaxFieldLength, 'w');
  Broker broker(config);
  broker.Begin();
  std::vector<MqttPacket> written = broker.Written();
  ASSERT_EQ(written.size(), 1u);
  const auto& connect = absl::get<MqttConnect>(written[0]);
  EXPECT_EQ(connect.client_id, config.client_id);
  EXPECT_EQ(connect.password, absl::optional<std::string>(config.password));
  ASSERT_TRUE(connect.will.has_value());
  EXPECT_EQ(connect.will->payload, config.will_payload);
}

TEST(MqttSessionTest, LoginFieldOverTheMqttLimitFailsBeginAndWritesNothing) {
  const std::string too_long(kMqttMaxFieldLength + 1, 'x');
  const struct {
    const char* name;
    std::string SessionConfig::*field;
  } kFields[] = {
      {"client id", &SessionConfig::client_id},
      {"username", &SessionConfig::username},
      {"password", &SessionConfig::password},
      {"will topic", &SessionConfig::will_topic},
      {"will payload", &SessionConfig::will_payload},
  };
  for (const auto& f : kFields) {
    SCOPED_TRACE(f.name);
    SessionConfig config = TestConfig();
    config.*f.field = too_long;
    Broker broker(config);
    std::string out;
    absl::Status status = broker.session().Begin(broker.now(), &out);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_EQ(ReasonOf(status), "LOGIN_INVALID") << status;
    EXPECT_TRUE(absl::StrContains(status.message(), f.name)) << status;
    EXPECT_FALSE(absl::StrContains(status.message(), "xxxx")) << status;
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(broker.session().connected());
    // Nothing answers a connection that never sent CONNECT.
    std::string connack;
    ASSERT_TRUE(EncodeConnack(Connack(), &connack).ok());
    EXPECT_FALSE(broker.session().OnBytes(connack, broker.now(), &out).ok());
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(broker.session().connected());
  }
}

TEST(MqttSessionTest, FailedBeginKeepsQueuedMessages) {
  SessionConfig config = TestConfig();
  config.password = std::string(kMqttMaxFieldLength + 1, 'p');
  Broker broker(config);
  broker.Publish("t", "waiting", 1);
  std::string out;
  EXPECT_FALSE(broker.session().Begin(broker.now(), &out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(broker.session().queued(), 1u);
  EXPECT_EQ(broker.session().in_flight(), 0u);
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

// --- Keepalive
// -------------------------------------------------------------------

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

}  // namespace
}  // namespace cloudlink::mqtt
