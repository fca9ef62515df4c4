#include "server/mqtt/mqtt_encoder.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/types/variant.h"
#include "server/common/error.h"
#include "server/mqtt/mqtt_packet.h"
#include "tests/server/mqtt/mqtt_test_packets.h"

namespace cloudlink::mqtt {
namespace {

TEST(MqttEncoderTest, PublishViewMatchesPublishStructAndItsSize) {
  const MqttPublish publish = FullPublish();
  std::string from_struct;
  ASSERT_TRUE(EncodePublish(publish, &from_struct).ok());

  MqttPublishView view;
  view.dup = publish.dup;
  view.qos = publish.qos;
  view.retain = publish.retain;
  view.topic = publish.topic;
  view.packet_id = publish.packet_id;
  view.topic_alias = publish.topic_alias;
  view.properties = &publish.properties;
  view.payload = publish.payload;
  std::string from_view = "prefix";
  ASSERT_TRUE(EncodePublish(view, &from_view).ok());
  EXPECT_EQ(from_view, "prefix" + from_struct);

  absl::StatusOr<size_t> size = EncodedPublishSize(view);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, from_struct.size());
}

// --- Byte-exact encodings (MQTT 5.0 spec examples and layouts) ---------------

TEST(MqttEncoderTest, ConnectMatchesSpecExample) {
  // Section 3.1.2.12: flags 0xCE (user name, password, Will QoS 1, Will,
  // Clean Start), Keep Alive 10, Session Expiry Interval 10.
  MqttConnect c;
  c.clean_start = true;
  c.keep_alive_seconds = 10;
  c.properties.session_expiry_interval_seconds = 10;
  c.client_id = "c";
  MqttWill& will = c.will.emplace();
  will.topic = "w";
  will.payload = "p";
  will.qos = 1;
  c.username = "u";
  c.password = "pw";
  const std::string expected = Bytes({
      0x10, 0x21,                                // CONNECT, 33 bytes
      0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05,  // protocol name, version 5
      0xCE, 0x00, 0x0A,                          // flags, keep alive 10
      0x05, 0x11, 0x00, 0x00, 0x00, 0x0A,        // Session Expiry 10
      0x00, 0x01, 'c',                           // client id
      0x00,                                      // no will properties
      0x00, 0x01, 'w',  0x00, 0x01, 'p',         // will topic, payload
      0x00, 0x01, 'u',  0x00, 0x02, 'p',  'w',   // user name, password
  });
  std::string out;
  ASSERT_TRUE(EncodeConnect(c, &out).ok());
  EXPECT_EQ(Hex(out), Hex(expected));
}

TEST(MqttEncoderTest, PublishMatchesSpecExample) {
  // Section 3.3.2.3.8 example: topic "a/b", packet id 10, no properties.
  MqttPublish p;
  p.qos = 1;
  p.topic = "a/b";
  p.packet_id = 10;
  p.payload = "hi";
  std::string out;
  ASSERT_TRUE(EncodePublish(p, &out).ok());
  EXPECT_EQ(Hex(out), Hex(Bytes({0x32, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x00,
                                 0x0A, 0x00, 'h', 'i'})));
}

TEST(MqttEncoderTest, PublishWithAliasAndFlags) {
  MqttPublishView p;
  p.qos = 0;
  p.retain = true;
  p.topic_alias = 5;
  p.payload = "x";
  std::string out;
  ASSERT_TRUE(EncodePublish(p, &out).ok());
  // QoS 0: no packet id; empty topic; Topic Alias 5.
  EXPECT_EQ(Hex(out),
            Hex(Bytes({0x31, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x05, 'x'})));
  p.dup = true;
  p.qos = 2;
  p.packet_id = 0x1234;
  out.clear();
  ASSERT_TRUE(EncodePublish(p, &out).ok());
  EXPECT_EQ(static_cast<uint8_t>(out[0]), 0x3D);
}

TEST(MqttEncoderTest, PubackShortAndLongForms) {
  MqttPuback p;
  p.packet_id = 10;
  std::string out;
  ASSERT_TRUE(EncodePuback(p, &out).ok());
  EXPECT_EQ(Hex(out), Hex(Bytes({0x40, 0x02, 0x00, 0x0A})));
  p.reason_code = mqtt_reason::kNoMatchingSubscribers;
  p.reason_string = "no";
  out.clear();
  ASSERT_TRUE(EncodePuback(p, &out).ok());
  EXPECT_EQ(Hex(out), Hex(Bytes({0x40, 0x09, 0x00, 0x0A, 0x10, 0x05, 0x1F, 0x00,
                                 0x02, 'n', 'o'})));
  // Reason code without property length (remaining length 3) decodes too.
  absl::StatusOr<MqttPacket> decoded =
      DecodeOne(Bytes({0x40, 0x03, 0x00, 0x0A, 0x97}));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(absl::get<MqttPuback>(*decoded).reason_code,
            mqtt_reason::kQuotaExceeded);
}

TEST(MqttEncoderTest, SubscribeMatchesSpecExample) {
  // Section 3.8.3 example: "a/b" with QoS 1, "c/d" with QoS 2.
  MqttSubscribe s;
  s.packet_id = 10;
  s.subscriptions.push_back({"a/b", 1, false, false, 0});
  s.subscriptions.push_back({"c/d", 2, false, false, 0});
  std::string out;
  ASSERT_TRUE(EncodeSubscribe(s, &out).ok());
  EXPECT_EQ(Hex(out),
            Hex(Bytes({0x82, 0x0F, 0x00, 0x0A, 0x00, 0x00, 0x03, 'a', '/', 'b',
                       0x01, 0x00, 0x03, 'c', '/', 'd', 0x02})));
  // Options bits: No Local 0x04, Retain As Published 0x08, Retain Handling.
  s.subscriptions = {{"t", 1, true, true, 2}};
  out.clear();
  ASSERT_TRUE(EncodeSubscribe(s, &out).ok());
  EXPECT_EQ(static_cast<uint8_t>(out.back()), 0x2D);
}

TEST(MqttEncoderTest, PingAndDisconnectBytes) {
  std::string out;
  EncodePingreq(&out);
  EncodePingresp(&out);
  ASSERT_TRUE(EncodeDisconnect(MqttDisconnect{}, &out).ok());
  EXPECT_EQ(Hex(out), Hex(Bytes({0xC0, 0x00, 0xD0, 0x00, 0xE0, 0x00})));

  MqttDisconnect d;
  d.reason_code = mqtt_reason::kDisconnectWithWillMessage;
  d.reason_string = "bye";
  out.clear();
  ASSERT_TRUE(EncodeDisconnect(d, &out).ok());
  EXPECT_EQ(
      Hex(out),
      Hex(Bytes({0xE0, 0x08, 0x04, 0x06, 0x1F, 0x00, 0x03, 'b', 'y', 'e'})));
}

TEST(MqttEncoderTest, RemainingLengthUsesSpecVariableByteIntegers) {
  // Section 1.5.5: boundaries of the 1..4 byte forms.
  struct Case {
    size_t remaining;
    std::string prefix;
  };
  const Case cases[] = {
      {127, Bytes({0x7F})},
      {128, Bytes({0x80, 0x01})},
      {16383, Bytes({0xFF, 0x7F})},
      {16384, Bytes({0x80, 0x80, 0x01})},
      {2097151, Bytes({0xFF, 0xFF, 0x7F})},
      {2097152, Bytes({0x80, 0x80, 0x80, 0x01})},
  };
  for (const Case& c : cases) {
    // QoS 0, topic "t" (3 bytes), no properties (1 byte).
    const std::string payload(c.remaining - 4, 'p');
    MqttPublishView p;
    p.topic = "t";
    p.payload = payload;
    std::string out;
    ASSERT_TRUE(EncodePublish(p, &out).ok());
    EXPECT_EQ(Hex(out.substr(1, c.prefix.size())), Hex(c.prefix));
    EXPECT_EQ(out.size(), 1 + c.prefix.size() + c.remaining);
    absl::StatusOr<MqttPacket> decoded = DecodeOne(out, kMqttMaxPacketSize);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(absl::get<MqttPublish>(*decoded).payload.size(), payload.size());
  }
}

// --- Errors ------------------------------------------------------------------

TEST(MqttEncoderTest, RefusesWhatCannotBeSentAndLeavesBufferAlone) {
  std::string out = "keep";
  MqttPublish p;
  p.topic = "t";
  p.qos = 3;
  EXPECT_EQ(ReasonOf(EncodePublish(p, &out)), "MQTT_MALFORMED");
  p.qos = 1;
  p.packet_id = 0;
  EXPECT_EQ(ReasonOf(EncodePublish(p, &out)), "MQTT_PROTOCOL_ERROR");
  p.qos = 0;
  p.dup = true;
  EXPECT_EQ(ReasonOf(EncodePublish(p, &out)), "MQTT_PROTOCOL_ERROR");
  p.dup = false;
  p.topic.clear();
  EXPECT_EQ(ReasonOf(EncodePublish(p, &out)), "MQTT_PROTOCOL_ERROR");
  p.topic_alias = 0;
  EXPECT_EQ(ReasonOf(EncodePublish(p, &out)), "MQTT_PROTOCOL_ERROR");
  p.topic_alias.reset();
  p.topic = std::string(65536, 't');
  EXPECT_EQ(ReasonOf(EncodePublish(p, &out)), "MQTT_MALFORMED");
  p.topic = "t";
  p.properties.response_topic = std::string(70000, 'r');
  EXPECT_EQ(ReasonOf(EncodePublish(p, &out)), "MQTT_MALFORMED");

  MqttPuback puback;
  EXPECT_EQ(ReasonOf(EncodePuback(puback, &out)), "MQTT_PROTOCOL_ERROR");
  MqttSubscribe subscribe;
  subscribe.packet_id = 1;
  EXPECT_EQ(ReasonOf(EncodeSubscribe(subscribe, &out)), "MQTT_PROTOCOL_ERROR");
  subscribe.subscriptions = {{"t", 0, false, false, 3}};
  EXPECT_EQ(ReasonOf(EncodeSubscribe(subscribe, &out)), "MQTT_PROTOCOL_ERROR");
  subscribe.subscriptions = {{"t", 0, false, false, 0}};
  subscribe.subscription_identifier = 0;
  EXPECT_EQ(ReasonOf(EncodeSubscribe(subscribe, &out)), "MQTT_PROTOCOL_ERROR");
  MqttConnect connect;
  connect.will.emplace().qos = 3;
  EXPECT_EQ(ReasonOf(EncodeConnect(connect, &out)), "MQTT_MALFORMED");
  connect.will->qos = 0;
  connect.username = std::string(65536, 'u');
  EXPECT_EQ(ReasonOf(EncodeConnect(connect, &out)), "MQTT_MALFORMED");
  EXPECT_EQ(out, "keep");
}

TEST(MqttEncoderTest, RefusesPayloadOverTheRemainingLengthLimit) {
  // The encoder checks sizes before it reads the payload, so a view that is
  // only nominally this long is enough.
  static const char kByte = 'p';
  MqttPublishView p;
  p.topic = "t";
  p.payload = absl::string_view(&kByte, kMqttMaxRemainingLength - 3);
  absl::StatusOr<size_t> size = EncodedPublishSize(p);
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(ReasonOf(size.status()), "MQTT_PACKET_TOO_LARGE");
  std::string out;
  EXPECT_EQ(ReasonOf(EncodePublish(p, &out)), "MQTT_PACKET_TOO_LARGE");
  EXPECT_TRUE(out.empty());
  p.payload = absl::string_view(&kByte, kMqttMaxRemainingLength - 4);
  size = EncodedPublishSize(p);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, kMqttMaxPacketSize);
}

}  // namespace
}  // namespace cloudlink::mqtt
