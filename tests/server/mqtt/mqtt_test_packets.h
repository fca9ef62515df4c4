#pragma once

// Test helpers for the MQTT encoder and decoder: byte literals, hex dumps,
// one-packet encode/decode, and a packet of every type with every property.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/mqtt/mqtt_packet.h"
#include "tests/testing/byte_strings.h"

namespace cloudlink::mqtt {

using ::cloudlink::testing::Bytes;
using ::cloudlink::testing::Hex;

// EncodePacket's output; a test failure if it fails.
std::string Encode(const MqttPacket& packet);

// Decodes `bytes`, which must hold exactly one packet.
absl::StatusOr<MqttPacket> DecodeOne(absl::string_view bytes,
                                     uint32_t max_packet_size = 1 << 20);

// The reason of decoding `bytes`, "" when it decodes fine.
std::string DecodeReason(absl::string_view bytes,
                         uint32_t max_packet_size = 1 << 20);

// User Properties with a repeated name and non-ASCII text.
std::vector<MqttUserProperty> Users();

// Packets with every field and property set.
MqttConnect FullConnect();
MqttConnack FullConnack();
MqttPublish FullPublish();
MqttPuback FullPuback();
MqttSubscribe FullSubscribe();
MqttSuback FullSuback();
MqttDisconnect FullDisconnect();

// Every packet type, with every property and with none.
std::vector<MqttPacket> AllPackets();

}  // namespace cloudlink::mqtt
