#pragma once

// MQTT 5.0 encoders for the packets in mqtt_packet.h. Each appends to a
// caller's buffer, so many packets may go into one buffer (later one
// WebSocket frame).
//
// Each Encode* appends exactly one packet to `*out` and returns OK, or returns
// an error and leaves `*out` as it was. The buffer grows with one reserve per
// packet; fields are written straight into it.
//
// The encoder refuses what cannot be represented or what a receiver must
// reject, with an INVALID_ARGUMENT status built with cloudlink::Error whose
// reason is
//   MQTT_MALFORMED         a string or binary field over kMqttMaxFieldLength
//                          bytes, QoS 3
//   MQTT_PROTOCOL_ERROR    packet id 0 where one is required, DUP on QoS 0,
//                          Topic Alias 0, a PUBLISH with neither topic nor
//                          alias, Subscription Identifier 0 or over
//                          268435455, a SUBSCRIBE without topic filters,
//                          Retain Handling 3, a SUBACK without reason codes
//   MQTT_PACKET_TOO_LARGE  a Remaining Length over kMqttMaxRemainingLength
// and a sentence saying which field of which packet was wrong (never its
// value). It does not check the contents of UTF-8 fields (the caller builds
// them; the decoder checks what it receives). Properties are written in the
// order the structs declare them.
//
// Thread-safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "server/mqtt/mqtt_packet.h"

namespace cloudlink::mqtt {

absl::Status EncodeConnect(const MqttConnect& connect, std::string* out);
absl::Status EncodeConnack(const MqttConnack& connack, std::string* out);
absl::Status EncodePublish(const MqttPublish& publish, std::string* out);
// A PUBACK with reason 0 and no properties takes the short 2-byte form.
absl::Status EncodePuback(const MqttPuback& puback, std::string* out);
absl::Status EncodeSubscribe(const MqttSubscribe& subscribe, std::string* out);
absl::Status EncodeSuback(const MqttSuback& suback, std::string* out);
void EncodePingreq(std::string* out);   // C0 00
void EncodePingresp(std::string* out);  // D0 00
// A DISCONNECT with reason 0 and no properties takes the short form E0 00.
absl::Status EncodeDisconnect(const MqttDisconnect& disconnect,
                              std::string* out);
// Dispatches on the packet's type.
absl::Status EncodePacket(const MqttPacket& packet, std::string* out);

// A PUBLISH to encode without copying its topic and payload: the publish hot
// path. Views must stay valid during the call only.
struct MqttPublishView {
  bool dup = false;
  uint8_t qos = 0;
  bool retain = false;
  absl::string_view topic;  // may be empty when topic_alias is set
  uint16_t packet_id = 0;   // written only when qos > 0
  absl::optional<uint16_t> topic_alias;
  const MqttPublishProperties* properties = nullptr;  // null: none
  absl::string_view payload;
};

// Encodes header, topic (or alias), properties and payload with a single
// reserve of the exact size. Same rules and errors as the MqttPublish form.
absl::Status EncodePublish(const MqttPublishView& publish, std::string* out);

// The number of bytes EncodePublish would append (to check a packet against
// the server's Maximum Packet Size before queueing it), or its error.
absl::StatusOr<size_t> EncodedPublishSize(const MqttPublishView& publish);

}  // namespace cloudlink::mqtt
