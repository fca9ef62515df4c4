#pragma once

// A streaming MQTT 5.0 decoder for bytes from the network, producing the
// packets of mqtt_packet.h.
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
// Thread-safety: an MqttDecoder is a plain value that one thread uses at a
// time.

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "server/common/stream_buffer.h"
#include "server/mqtt/mqtt_packet.h"

namespace cloudlink::mqtt {

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
