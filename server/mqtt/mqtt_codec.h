#pragma once

// MQTT 5.0 wire format for the packets in mqtt_packet.h: encoders that append
// to a caller's buffer (many packets may go into one buffer, later one
// WebSocket frame) and a streaming decoder for bytes from the network.
//
// Errors are INVALID_ARGUMENT statuses built with cloudlink::Error, with the
// reason
//   MQTT_MALFORMED         the bytes do not parse (truncated field, bad UTF-8,
//                          reserved bits set, QoS 3, unknown property or one
//                          not allowed in that packet, ...)
//   MQTT_PROTOCOL_ERROR    the bytes parse but break a rule (duplicate
//                          property, packet id 0, Receive Maximum 0, ...)
//   MQTT_PACKET_TOO_LARGE  the packet is over the configured maximum size
// and a sentence saying which field of which packet was wrong.
//
// Thread-safety: the free functions are pure; an MqttDecoder is a plain value
// that one thread uses at a time.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "server/common/stream_buffer.h"
#include "server/mqtt/mqtt_packet.h"

namespace cloudlink::mqtt {

// Largest Remaining Length a Variable Byte Integer can express.
inline constexpr uint32_t kMqttMaxRemainingLength = 268435455;
// Largest whole packet: 1 byte type, 4 bytes length, the rest.
inline constexpr uint32_t kMqttMaxPacketSize = 1 + 4 + kMqttMaxRemainingLength;

// --- Encoding ---------------------------------------------------------------
//
// Each Encode* appends exactly one packet to `*out` and returns OK, or returns
// an error and leaves `*out` as it was. The buffer grows with one reserve per
// packet; fields are written straight into it.
//
// The encoder refuses what cannot be represented or what a receiver must
// reject: a string or binary field over 65535 bytes, a Remaining Length over
// kMqttMaxRemainingLength (MQTT_PACKET_TOO_LARGE), QoS 3, packet id 0 where
// one is required, DUP on QoS 0, Topic Alias 0, a PUBLISH with neither topic
// nor alias, Subscription Identifier 0 or over 268435455, a SUBSCRIBE without
// topic filters, Retain Handling 3. It does not check the contents of UTF-8
// fields (the caller builds them; the decoder checks what it receives).
// Properties are written in the order the structs declare them.

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

// --- Decoding ---------------------------------------------------------------

// Reassembles packets from a byte stream cut anywhere.
//
//   MqttDecoder decoder(max_packet_size);
//   decoder.Feed(bytes);
//   while (true) {
//     absl::StatusOr<absl::optional<MqttPacket>> next = decoder.Next();
//     if (!next.ok()) { /* close the connection */ }
//     if (!next->has_value()) break;  // needs more bytes
//     Handle(**next);
//   }
//
// A packet is rejected as soon as its fixed header is in: a wrong type or
// flags, or a length over the maximum, fail before any of its body arrives, so
// a hostile length prefix never makes the decoder wait for or hold more than
// the bytes fed. Decodes every type in MqttPacket (both directions, so a test
// broker can use it too); PUBREC, PUBREL, PUBCOMP, UNSUBSCRIBE, UNSUBACK and
// AUTH are MQTT_PROTOCOL_ERROR (the node never uses QoS 2, unsubscribes or
// enhanced authentication). Reason code values are passed through as received.
//
// After an error the decoder is broken: Next() returns the same error again
// and Feed() discards its input.
class MqttDecoder {
 public:
  // `max_packet_size` bounds a whole packet (fixed header included), as the
  // Maximum Packet Size property does; values above kMqttMaxPacketSize and 0
  // mean kMqttMaxPacketSize.
  explicit MqttDecoder(uint32_t max_packet_size);

  MqttDecoder(const MqttDecoder&) = delete;
  MqttDecoder& operator=(const MqttDecoder&) = delete;

  // Appends `bytes` (any length, any cut) to the pending input.
  void Feed(absl::string_view bytes);

  // The next complete packet; nullopt when more bytes are needed; an error
  // (see the top of this file) when the input is bad.
  absl::StatusOr<absl::optional<MqttPacket>> Next();

  // Bytes fed but not yet returned as packets.
  size_t buffered_bytes() const { return buffer_.size(); }

  uint32_t max_packet_size() const { return max_packet_size_; }

 private:
  uint32_t max_packet_size_;
  StreamBuffer buffer_;
  absl::Status error_;
};

}  // namespace cloudlink::mqtt
