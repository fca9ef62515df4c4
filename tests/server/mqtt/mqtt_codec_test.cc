#include "server/mqtt/mqtt_codec.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/mqtt/mqtt_packet.h"

namespace cloudlink::mqtt {
namespace {

// Bytes from a list of values 0..255.
std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

std::string Hex(absl::string_view bytes) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Encode(const MqttPacket& packet) {
  std::string out;
  absl::Status status = EncodePacket(packet, &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

// Decodes `bytes`, which must hold exactly one packet.
absl::StatusOr<MqttPacket> DecodeOne(absl::string_view bytes,
                                     uint32_t max_packet_size = 1 << 20) {
  MqttDecoder decoder(max_packet_size);
  decoder.Feed(bytes);
  absl::StatusOr<absl::optional<MqttPacket>> next = decoder.Next();
  if (!next.ok()) return next.status();
  if (!next->has_value()) return absl::UnknownError("incomplete packet");
  EXPECT_EQ(decoder.buffered_bytes(), 0u) << "bytes left after the packet";
  return std::move(**next);
}

// The reason of decoding `bytes`, "" when it decodes fine.
std::string DecodeReason(absl::string_view bytes,
                         uint32_t max_packet_size = 1 << 20) {
  absl::StatusOr<MqttPacket> packet = DecodeOne(bytes, max_packet_size);
  if (packet.ok()) return "";
  EXPECT_EQ(packet.status().code(), absl::StatusCode::kInvalidArgument)
      << packet.status();
  return ReasonOf(packet.status());
}

std::vector<MqttUserProperty> Users() {
  return {{"a", "1"}, {"a", "2"}, {"ключ", "значение"}};
}

MqttConnect FullConnect() {
  MqttConnect c;
  c.clean_start = true;
  c.keep_alive_seconds = 60;
  c.client_id = "node-1";
  c.username = "user";
  c.password = std::string("p\0w\xff", 4);
  MqttWill& will = c.will.emplace();
  will.topic = "/agent/x/outbound/v1/agent-connection";
  will.payload = std::string("\x08\x00\x01", 3);
  will.qos = 1;
  will.retain = true;
  will.properties.will_delay_interval_seconds = 5;
  will.properties.payload_format_indicator = 0;
  will.properties.message_expiry_interval_seconds = 3600;
  will.properties.content_type = "application/x-protobuf";
  will.properties.response_topic = "resp";
  will.properties.correlation_data = std::string("\x00\x01", 2);
  will.properties.user_properties = Users();
  c.properties.session_expiry_interval_seconds = 0;
  c.properties.receive_maximum = 100;
  c.properties.maximum_packet_size = 1 << 20;
  c.properties.topic_alias_maximum = 65535;
  c.properties.request_response_information = 1;
  c.properties.request_problem_information = 0;
  c.properties.authentication_method = "SCRAM";
  c.properties.authentication_data = std::string("\x00\xfe", 2);
  c.properties.user_properties = Users();
  return c;
}

MqttConnack FullConnack() {
  MqttConnack c;
  c.session_present = true;
  c.reason_code = mqtt_reason::kSuccess;
  MqttConnackProperties& p = c.properties;
  p.session_expiry_interval_seconds = 10;
  p.receive_maximum = 20;
  p.maximum_qos = 1;
  p.retain_available = 0;
  p.maximum_packet_size = 65536;
  p.assigned_client_identifier = "auto-123";
  p.topic_alias_maximum = 10;
  p.reason_string = "welcome";
  p.wildcard_subscription_available = 1;
  p.subscription_identifiers_available = 0;
  p.shared_subscription_available = 1;
  p.server_keep_alive_seconds = 30;
  p.response_information = "info";
  p.server_reference = "other:1883";
  p.authentication_method = "SCRAM";
  p.authentication_data = "data";
  p.user_properties = Users();
  return c;
}

MqttPublish FullPublish() {
  MqttPublish p;
  p.dup = true;
  p.qos = 1;
  p.retain = true;
  p.topic = "/agent/x/inbound/cmd";
  p.packet_id = 65535;
  p.topic_alias = 7;
  p.properties.payload_format_indicator = 1;
  p.properties.message_expiry_interval_seconds = 0xFFFFFFFF;
  p.properties.response_topic = "r/t";
  p.properties.correlation_data = std::string(3, '\0');
  p.properties.subscription_identifiers = {1, 268435455};
  p.properties.content_type = "text/plain";
  p.properties.user_properties = Users();
  p.payload = std::string(300, 'x');
  return p;
}

MqttPuback FullPuback() {
  MqttPuback p;
  p.packet_id = 513;
  p.reason_code = mqtt_reason::kNoMatchingSubscribers;
  p.reason_string = "nobody";
  p.user_properties = Users();
  return p;
}

MqttSubscribe FullSubscribe() {
  MqttSubscribe s;
  s.packet_id = 2;
  s.subscription_identifier = 16384;
  s.user_properties = Users();
  s.subscriptions.push_back({"a/+/c", 1, true, true, 2});
  s.subscriptions.push_back({"#", 0, false, false, 0});
  s.subscriptions.push_back({"x/y", 2, false, true, 1});
  return s;
}

MqttSuback FullSuback() {
  MqttSuback s;
  s.packet_id = 2;
  s.reason_string = "partly";
  s.user_properties = Users();
  s.reason_codes = {mqtt_reason::kGrantedQos1, mqtt_reason::kNotAuthorized,
                    mqtt_reason::kGrantedQos2};
  return s;
}

MqttDisconnect FullDisconnect() {
  MqttDisconnect d;
  d.reason_code = mqtt_reason::kUseAnotherServer;
  d.session_expiry_interval_seconds = 0;
  d.reason_string = "moving";
  d.server_reference = "elsewhere:8883";
  d.user_properties = Users();
  return d;
}

// Every packet type, with every property and with none.
std::vector<MqttPacket> AllPackets() {
  std::vector<MqttPacket> packets;
  packets.push_back(FullConnect());
  MqttConnect minimal_connect;
  packets.push_back(minimal_connect);
  packets.push_back(FullConnack());
  packets.push_back(MqttConnack{});
  packets.push_back(FullPublish());
  MqttPublish qos0;
  qos0.topic = "t";
  packets.push_back(qos0);
  MqttPublish alias_only;
  alias_only.topic_alias = 1;
  alias_only.payload = "p";
  packets.push_back(alias_only);
  packets.push_back(FullPuback());
  MqttPuback short_puback;
  short_puback.packet_id = 1;
  packets.push_back(short_puback);
  MqttPuback reason_only_puback;
  reason_only_puback.packet_id = 1;
  reason_only_puback.reason_code = mqtt_reason::kQuotaExceeded;
  packets.push_back(reason_only_puback);
  packets.push_back(FullSubscribe());
  packets.push_back(FullSuback());
  packets.push_back(MqttPingreq{});
  packets.push_back(MqttPingresp{});
  packets.push_back(FullDisconnect());
  packets.push_back(MqttDisconnect{});
  return packets;
}

// --- Round trips
// --------------------------------------------------------------

TEST(MqttCodecTest, EveryPacketAndPropertyRoundTrips) {
  for (const MqttPacket& packet : AllPackets()) {
    SCOPED_TRACE(MqttPacketTypeName(TypeOf(packet)));
    const std::string bytes = Encode(packet);
    absl::StatusOr<MqttPacket> decoded = DecodeOne(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status() << " in " << Hex(bytes);
    EXPECT_TRUE(*decoded == packet);
    EXPECT_EQ(Encode(*decoded), bytes);
  }
}

TEST(MqttCodecTest, ManyPacketsAppendToOneBuffer) {
  std::string stream;
  for (const MqttPacket& packet : AllPackets()) {
    ASSERT_TRUE(EncodePacket(packet, &stream).ok());
  }
  MqttDecoder decoder(1 << 20);
  decoder.Feed(stream);
  for (const MqttPacket& expected : AllPackets()) {
    auto next = decoder.Next();
    ASSERT_TRUE(next.ok()) << next.status();
    ASSERT_TRUE(next->has_value());
    EXPECT_TRUE(**next == expected);
  }
  auto end = decoder.Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST(MqttCodecTest, PublishViewMatchesPublishStructAndItsSize) {
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

TEST(MqttCodecTest, ConnectMatchesSpecExample) {
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

TEST(MqttCodecTest, PublishMatchesSpecExample) {
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

TEST(MqttCodecTest, PublishWithAliasAndFlags) {
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

TEST(MqttCodecTest, PubackShortAndLongForms) {
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

TEST(MqttCodecTest, SubscribeMatchesSpecExample) {
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

TEST(MqttCodecTest, PingAndDisconnectBytes) {
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

TEST(MqttCodecTest, DisconnectWithReasonOnlyDecodes) {
  absl::StatusOr<MqttPacket> decoded = DecodeOne(Bytes({0xE0, 0x01, 0x8E}));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(absl::get<MqttDisconnect>(*decoded).reason_code,
            mqtt_reason::kSessionTakenOver);
}

TEST(MqttCodecTest, RemainingLengthUsesSpecVariableByteIntegers) {
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

// --- Streaming ---------------------------------------------------------------

std::vector<MqttPacket> DecodeAll(const std::string& stream,
                                  const std::vector<size_t>& cuts) {
  MqttDecoder decoder(1 << 20);
  std::vector<MqttPacket> packets;
  size_t pos = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : stream.size();
    decoder.Feed(absl::string_view(stream).substr(pos, end - pos));
    pos = end;
    while (true) {
      auto next = decoder.Next();
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok() || !next->has_value()) break;
      packets.push_back(std::move(**next));
    }
  }
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  return packets;
}

TEST(MqttCodecTest, OneByteAtATimeGivesTheSamePackets) {
  std::string stream;
  for (const MqttPacket& packet : AllPackets()) stream += Encode(packet);
  std::vector<size_t> cuts;
  for (size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  std::vector<MqttPacket> decoded = DecodeAll(stream, cuts);
  ASSERT_EQ(decoded.size(), AllPackets().size());
  for (size_t i = 0; i < decoded.size(); ++i) {
    EXPECT_TRUE(decoded[i] == AllPackets()[i]) << "packet " << i;
  }
}

TEST(MqttCodecTest, RandomChunkingsGiveTheSamePackets) {
  std::string stream;
  for (int round = 0; round < 3; ++round) {
    for (const MqttPacket& packet : AllPackets()) stream += Encode(packet);
  }
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<size_t> step(1, 64);
    std::vector<size_t> cuts;
    for (size_t at = step(random); at < stream.size(); at += step(random)) {
      cuts.push_back(at);
    }
    std::vector<MqttPacket> decoded = DecodeAll(stream, cuts);
    ASSERT_EQ(decoded.size(), 3 * AllPackets().size()) << "seed " << seed;
    for (size_t i = 0; i < decoded.size(); ++i) {
      EXPECT_TRUE(decoded[i] == AllPackets()[i % AllPackets().size()])
          << "seed " << seed << " packet " << i;
    }
  }
}

// --- Malformed input ---------------------------------------------------------

TEST(MqttDecoderTest, RemainingLengthOfFiveBytesIsMalformed) {
  MqttDecoder decoder(kMqttMaxPacketSize);
  decoder.Feed(Bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF}));
  auto next = decoder.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(ReasonOf(next.status()), "MQTT_MALFORMED");
  EXPECT_NE(next.status().message().find("longer than 4 bytes"),
            std::string::npos);
}

TEST(MqttDecoderTest, PropertyLengthOfFiveBytesIsMalformed) {
  EXPECT_EQ(DecodeReason(Bytes(
                {0x30, 0x08, 0x00, 0x01, 't', 0x80, 0x80, 0x80, 0x80, 0x01})),
            "MQTT_MALFORMED");
}

TEST(MqttDecoderTest, OversizeLengthIsRejectedBeforeTheBodyArrives) {
  MqttDecoder decoder(1024);
  // Announces 268435455 bytes; only the fixed header is fed.
  decoder.Feed(Bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F}));
  auto next = decoder.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(next.status()), "MQTT_PACKET_TOO_LARGE");
  EXPECT_LE(decoder.buffered_bytes(), 5u);
}

TEST(MqttDecoderTest, MaximumPacketSizeIsInclusive) {
  MqttPublishView p;
  p.topic = "t";
  const std::string payload(100, 'p');
  p.payload = payload;
  std::string out;
  ASSERT_TRUE(EncodePublish(p, &out).ok());
  const auto size = static_cast<uint32_t>(out.size());
  EXPECT_EQ(DecodeReason(out, size), "");
  EXPECT_EQ(DecodeReason(out, size - 1), "MQTT_PACKET_TOO_LARGE");
}

TEST(MqttDecoderTest, TruncatedFieldsAreMalformed) {
  // Topic Name says 5 bytes, 1 follows.
  absl::StatusOr<MqttPacket> p =
      DecodeOne(Bytes({0x30, 0x03, 0x00, 0x05, 'a'}));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ReasonOf(p.status()), "MQTT_MALFORMED");
  EXPECT_NE(p.status().message().find("Topic Name"), std::string::npos);
  // QoS 1 PUBLISH that ends before its packet id.
  EXPECT_EQ(DecodeReason(Bytes({0x32, 0x04, 0x00, 0x01, 't', 0x00})),
            "MQTT_MALFORMED");
  // Property Length longer than the packet.
  EXPECT_EQ(DecodeReason(Bytes({0x30, 0x05, 0x00, 0x01, 't', 0x09, 0x01})),
            "MQTT_MALFORMED");
  // A property value cut off inside the properties.
  EXPECT_EQ(
      DecodeReason(Bytes({0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x23, 0x00})),
      "MQTT_MALFORMED");
  // CONNACK without a reason code.
  EXPECT_EQ(DecodeReason(Bytes({0x20, 0x01, 0x00})), "MQTT_MALFORMED");
  // Every prefix of every valid packet body is refused, never crashes.
  for (const MqttPacket& packet : AllPackets()) {
    const std::string bytes = Encode(packet);
    if (bytes.size() > 129) continue;  // keep a one-byte Remaining Length
    for (size_t keep = 2; keep < bytes.size(); ++keep) {
      std::string truncated = bytes.substr(0, keep);
      truncated[1] = static_cast<char>(keep - 2);
      const std::string reason = DecodeReason(truncated);
      // A few prefixes are themselves valid short forms (PUBACK, DISCONNECT).
      if (!reason.empty()) {
        EXPECT_TRUE(reason == "MQTT_MALFORMED" ||
                    reason == "MQTT_PROTOCOL_ERROR")
            << reason << " for " << Hex(truncated);
      }
    }
  }
}

TEST(MqttDecoderTest, InvalidUtf8IsMalformed) {
  const std::string bad_strings[] = {
      Bytes({0xC3, 0x28}),              // bad continuation
      Bytes({'a', 0x00, 'b'}),          // U+0000
      Bytes({0xED, 0xA0, 0x80}),        // surrogate U+D800
      Bytes({0xC0, 0xAF}),              // overlong '/'
      Bytes({0xF4, 0x90, 0x80, 0x80}),  // above U+10FFFF
      Bytes({0xE2, 0x82}),              // truncated sequence
  };
  for (const std::string& bad : bad_strings) {
    std::string packet = Bytes({0x30, 0, 0x00, static_cast<int>(bad.size())});
    packet += bad;
    packet.push_back(0);  // no properties
    packet[1] = static_cast<char>(packet.size() - 2);
    EXPECT_EQ(DecodeReason(packet), "MQTT_MALFORMED") << Hex(bad);
  }
  // A bad string inside a property (Reason String in PUBACK).
  EXPECT_EQ(DecodeReason(Bytes(
                {0x40, 0x08, 0x00, 0x01, 0x00, 0x04, 0x1F, 0x00, 0x01, 0xFF})),
            "MQTT_MALFORMED");
  // Valid multi-byte text passes.
  MqttPublish p;
  p.topic = "датчик/温度/🌡";
  EXPECT_EQ(DecodeReason(Encode(p)), "");
}

TEST(MqttDecoderTest, UnknownPropertyIsMalformed) {
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

TEST(MqttDecoderTest, PropertyNotAllowedInPacketIsMalformed) {
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

TEST(MqttDecoderTest, DuplicateSingleUsePropertyIsProtocolError) {
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

TEST(MqttDecoderTest, InvalidPropertyValuesAreProtocolErrors) {
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

TEST(MqttDecoderTest, ReservedFlagBitsAreMalformed) {
  EXPECT_EQ(DecodeReason(Bytes({0x41, 0x02, 0x00, 0x01})), "MQTT_MALFORMED");
  EXPECT_EQ(DecodeReason(Bytes({0xC8, 0x00})), "MQTT_MALFORMED");
  EXPECT_EQ(DecodeReason(Bytes({0xE1, 0x00})), "MQTT_MALFORMED");
  // SUBSCRIBE must carry flags 0010.
  std::string subscribe = Encode(FullSubscribe());
  subscribe[0] = static_cast<char>(0x80);
  EXPECT_EQ(DecodeReason(subscribe), "MQTT_MALFORMED");
  // CONNACK acknowledge flags other than Session Present.
  EXPECT_EQ(DecodeReason(Bytes({0x20, 0x03, 0x02, 0x00, 0x00})),
            "MQTT_MALFORMED");
  // CONNECT reserved bit 0, and Will Retain without a Will.
  MqttConnect c;
  c.client_id = "c";
  std::string connect = Encode(c);
  const size_t flags_at = 2 + 6 + 1;
  ASSERT_EQ(static_cast<uint8_t>(connect[flags_at]), 0x02);
  connect[flags_at] = 0x03;
  EXPECT_EQ(DecodeReason(connect), "MQTT_MALFORMED");
  connect[flags_at] = 0x22;
  EXPECT_EQ(DecodeReason(connect), "MQTT_MALFORMED");
  // Subscription Options reserved bits.
  EXPECT_EQ(DecodeReason(
                Bytes({0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 't', 0x40})),
            "MQTT_MALFORMED");
}

TEST(MqttDecoderTest, QosThreeIsMalformed) {
  EXPECT_EQ(
      DecodeReason(Bytes({0x36, 0x06, 0x00, 0x01, 't', 0x00, 0x01, 0x00})),
      "MQTT_MALFORMED");
  MqttConnect c = FullConnect();
  std::string connect = Encode(c);
  connect[connect.find("MQTT") + 5] |= 0x18;  // Will QoS 3
  EXPECT_EQ(DecodeReason(connect), "MQTT_MALFORMED");
  // Subscription option Maximum QoS 3.
  std::string subscribe =
      Bytes({0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 't', 0x03});
  EXPECT_EQ(DecodeReason(subscribe), "MQTT_MALFORMED");
  // Retain Handling 3 is a protocol error.
  subscribe.back() = 0x30;
  EXPECT_EQ(DecodeReason(subscribe), "MQTT_PROTOCOL_ERROR");
}

TEST(MqttDecoderTest, PacketIdZeroIsProtocolError) {
  EXPECT_EQ(
      DecodeReason(Bytes({0x32, 0x06, 0x00, 0x01, 't', 0x00, 0x00, 0x00})),
      "MQTT_PROTOCOL_ERROR");
  EXPECT_EQ(DecodeReason(Bytes({0x40, 0x02, 0x00, 0x00})),
            "MQTT_PROTOCOL_ERROR");
  EXPECT_EQ(DecodeReason(
                Bytes({0x82, 0x07, 0x00, 0x00, 0x00, 0x00, 0x01, 't', 0x01})),
            "MQTT_PROTOCOL_ERROR");
  EXPECT_EQ(DecodeReason(Bytes({0x90, 0x04, 0x00, 0x00, 0x00, 0x01})),
            "MQTT_PROTOCOL_ERROR");
}

TEST(MqttDecoderTest, OtherRuleBreaksAreProtocolErrors) {
  // QoS 0 with DUP.
  EXPECT_EQ(DecodeReason(Bytes({0x38, 0x04, 0x00, 0x01, 't', 0x00})),
            "MQTT_PROTOCOL_ERROR");
  // Wildcard in a Topic Name.
  EXPECT_EQ(DecodeReason(Bytes({0x30, 0x05, 0x00, 0x02, 'a', '#', 0x00})),
            "MQTT_PROTOCOL_ERROR");
  // Neither topic nor alias.
  EXPECT_EQ(DecodeReason(Bytes({0x30, 0x03, 0x00, 0x00, 0x00})),
            "MQTT_PROTOCOL_ERROR");
  // SUBSCRIBE without filters, SUBACK without codes.
  EXPECT_EQ(DecodeReason(Bytes({0x82, 0x03, 0x00, 0x01, 0x00})),
            "MQTT_PROTOCOL_ERROR");
  EXPECT_EQ(DecodeReason(Bytes({0x90, 0x03, 0x00, 0x01, 0x00})),
            "MQTT_PROTOCOL_ERROR");
  // Packet types the node does not use.
  EXPECT_EQ(DecodeReason(Bytes({0x50, 0x02, 0x00, 0x01})),
            "MQTT_PROTOCOL_ERROR");
  EXPECT_EQ(DecodeReason(Bytes({0xF0, 0x00})), "MQTT_PROTOCOL_ERROR");
  // Protocol version 4.
  std::string connect = Encode(MqttConnect{});
  connect[2 + 6] = 4;
  EXPECT_EQ(DecodeReason(connect), "MQTT_PROTOCOL_ERROR");
}

TEST(MqttDecoderTest, TrailingBytesAndReservedTypeAreMalformed) {
  EXPECT_EQ(DecodeReason(Bytes({0xC0, 0x01, 0x00})), "MQTT_MALFORMED");
  EXPECT_EQ(DecodeReason(Bytes({0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0xAA})),
            "MQTT_MALFORMED");
  EXPECT_EQ(DecodeReason(Bytes({0x00, 0x00})), "MQTT_MALFORMED");
}

TEST(MqttDecoderTest, BadHeaderIsRejectedBeforeItsLengthIsComplete) {
  MqttDecoder decoder(1 << 20);
  decoder.Feed(Bytes({0x36}));  // PUBLISH QoS 3, nothing else yet
  auto next = decoder.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(ReasonOf(next.status()), "MQTT_MALFORMED");
}

TEST(MqttDecoderTest, ErrorIsSticky) {
  MqttDecoder decoder(1 << 20);
  decoder.Feed(Bytes({0xC0, 0x01, 0x00}));
  auto first = decoder.Next();
  ASSERT_FALSE(first.ok());
  std::string ping;
  EncodePingreq(&ping);
  decoder.Feed(ping);
  auto second = decoder.Next();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status(), first.status());
}

TEST(MqttDecoderTest, Mqtt311ConnackIsReadForItsReturnCode) {
  // A 3.1.1 broker answers a version 5 CONNECT with 20 02 00 01.
  absl::StatusOr<MqttPacket> decoded =
      DecodeOne(Bytes({0x20, 0x02, 0x00, 0x01}));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(absl::get<MqttConnack>(*decoded).reason_code, 0x01);
}

TEST(MqttDecoderTest, RandomBytesNeverCrash) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> byte(0, 255);
  int errors = 0;
  for (int round = 0; round < 2000; ++round) {
    // Start from a valid packet and flip a few bytes.
    const std::vector<MqttPacket> all = AllPackets();
    std::string bytes = Encode(all[round % all.size()]);
    for (int flips = 0; flips < 3; ++flips) {
      bytes[static_cast<size_t>(byte(random)) % bytes.size()] =
          static_cast<char>(byte(random));
    }
    MqttDecoder decoder(4096);
    decoder.Feed(bytes);
    for (int i = 0; i < 4; ++i) {
      auto next = decoder.Next();
      if (!next.ok()) {
        ++errors;
        EXPECT_EQ(next.status().code(), absl::StatusCode::kInvalidArgument);
        break;
      }
      if (!next->has_value()) break;
    }
  }
  EXPECT_GT(errors, 0);
}

// --- Encoder errors ----------------------------------------------------------

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
