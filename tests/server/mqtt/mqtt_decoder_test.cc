#include "server/mqtt/mqtt_decoder.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/variant.h"
#include "server/common/error.h"
#include "server/mqtt/mqtt_encoder.h"
#include "server/mqtt/mqtt_packet.h"
#include "tests/server/mqtt/mqtt_test_packets.h"

namespace cloudlink::mqtt {
namespace {

// --- Round trips ------------------------------------------------------------

TEST(MqttDecoderTest, ManyPacketsAppendToOneBuffer) {
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

TEST(MqttDecoderTest, DisconnectWithReasonOnlyDecodes) {
  absl::StatusOr<MqttPacket> decoded = DecodeOne(Bytes({0xE0, 0x01, 0x8E}));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(absl::get<MqttDisconnect>(*decoded).reason_code,
            mqtt_reason::kSessionTakenOver);
}

TEST(MqttDecoderTest, Mqtt311ConnackIsReadForItsReturnCode) {
  // A 3.1.1 broker answers a version 5 CONNECT with 20 02 00 01.
  absl::StatusOr<MqttPacket> decoded =
      DecodeOne(Bytes({0x20, 0x02, 0x00, 0x01}));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(absl::get<MqttConnack>(*decoded).reason_code, 0x01);
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

TEST(MqttDecoderTest, OneByteAtATimeGivesTheSamePackets) {
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

TEST(MqttDecoderTest, RandomChunkingsGiveTheSamePackets) {
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

}  // namespace
}  // namespace cloudlink::mqtt
