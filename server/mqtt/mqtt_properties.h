#pragma once

// Internal to server/mqtt: MQTT 5.0 properties (section 2.2.2), both ways.
//
// Writing: Write*Properties put one packet's properties into a Sink (see
// mqtt_wire.h), in the order the structs declare them, nothing for an absent
// property. They write the properties only; the caller writes the Property
// Length before them (measured with a SizeCounter).
//
// Reading: Read*Properties read a Property Length and the properties after
// it and store each in the packet's struct. Each property is checked against
// the table of section 2.2.2.2: an unknown identifier, or one not allowed in
// that packet, is MQTT_MALFORMED; a second copy of a property that may appear
// once, a boolean property other than 0 or 1, or 0 where a property must not
// be 0 (Receive Maximum, Maximum Packet Size, Topic Alias, Subscription
// Identifier) is MQTT_PROTOCOL_ERROR. Sentences name the property and
// `where` it was.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/optional.h"
#include "server/mqtt/mqtt_packet.h"
#include "server/mqtt/mqtt_wire.h"

namespace cloudlink::mqtt::internal {

// --- Writing ----------------------------------------------------------------

template <typename Sink>
void PropByte(Sink& s, uint8_t id, const absl::optional<uint8_t>& value) {
  if (!value) return;
  s.Byte(id);
  s.Byte(*value);
}
template <typename Sink>
void PropU16(Sink& s, uint8_t id, const absl::optional<uint16_t>& value) {
  if (!value) return;
  s.Byte(id);
  s.U16(*value);
}
template <typename Sink>
void PropU32(Sink& s, uint8_t id, const absl::optional<uint32_t>& value) {
  if (!value) return;
  s.Byte(id);
  s.U32(*value);
}
template <typename Sink>
void PropVbi(Sink& s, uint8_t id, uint32_t value) {
  s.Byte(id);
  s.Vbi(value);
}
template <typename Sink>
void PropField(Sink& s, uint8_t id, const absl::optional<std::string>& value) {
  if (!value) return;
  s.Byte(id);
  s.Field(*value);
}
template <typename Sink>
void PropUsers(Sink& s, const std::vector<MqttUserProperty>& users) {
  for (const MqttUserProperty& user : users) {
    s.Byte(mqtt_property::kUserProperty);
    s.Field(user.name);
    s.Field(user.value);
  }
}

template <typename Sink>
void WriteConnectProperties(const MqttConnectProperties& p, Sink& s) {
  namespace id = mqtt_property;
  PropU32(s, id::kSessionExpiryInterval, p.session_expiry_interval_seconds);
  PropU16(s, id::kReceiveMaximum, p.receive_maximum);
  PropU32(s, id::kMaximumPacketSize, p.maximum_packet_size);
  PropU16(s, id::kTopicAliasMaximum, p.topic_alias_maximum);
  PropByte(s, id::kRequestResponseInformation, p.request_response_information);
  PropByte(s, id::kRequestProblemInformation, p.request_problem_information);
  PropField(s, id::kAuthenticationMethod, p.authentication_method);
  PropField(s, id::kAuthenticationData, p.authentication_data);
  PropUsers(s, p.user_properties);
}

template <typename Sink>
void WriteWillProperties(const MqttWillProperties& p, Sink& s) {
  namespace id = mqtt_property;
  PropU32(s, id::kWillDelayInterval, p.will_delay_interval_seconds);
  PropByte(s, id::kPayloadFormatIndicator, p.payload_format_indicator);
  PropU32(s, id::kMessageExpiryInterval, p.message_expiry_interval_seconds);
  PropField(s, id::kContentType, p.content_type);
  PropField(s, id::kResponseTopic, p.response_topic);
  PropField(s, id::kCorrelationData, p.correlation_data);
  PropUsers(s, p.user_properties);
}

template <typename Sink>
void WriteConnackProperties(const MqttConnackProperties& p, Sink& s) {
  namespace id = mqtt_property;
  PropU32(s, id::kSessionExpiryInterval, p.session_expiry_interval_seconds);
  PropU16(s, id::kReceiveMaximum, p.receive_maximum);
  PropByte(s, id::kMaximumQos, p.maximum_qos);
  PropByte(s, id::kRetainAvailable, p.retain_available);
  PropU32(s, id::kMaximumPacketSize, p.maximum_packet_size);
  PropField(s, id::kAssignedClientIdentifier, p.assigned_client_identifier);
  PropU16(s, id::kTopicAliasMaximum, p.topic_alias_maximum);
  PropField(s, id::kReasonString, p.reason_string);
  PropByte(s, id::kWildcardSubscriptionAvailable,
           p.wildcard_subscription_available);
  PropByte(s, id::kSubscriptionIdentifierAvailable,
           p.subscription_identifiers_available);
  PropByte(s, id::kSharedSubscriptionAvailable,
           p.shared_subscription_available);
  PropU16(s, id::kServerKeepAlive, p.server_keep_alive_seconds);
  PropField(s, id::kResponseInformation, p.response_information);
  PropField(s, id::kServerReference, p.server_reference);
  PropField(s, id::kAuthenticationMethod, p.authentication_method);
  PropField(s, id::kAuthenticationData, p.authentication_data);
  PropUsers(s, p.user_properties);
}

// Topic Alias first, then `p`'s properties (none when `p` is null).
template <typename Sink>
void WritePublishProperties(const absl::optional<uint16_t>& topic_alias,
                            const MqttPublishProperties* p, Sink& s) {
  namespace id = mqtt_property;
  PropU16(s, id::kTopicAlias, topic_alias);
  if (p == nullptr) return;
  PropByte(s, id::kPayloadFormatIndicator, p->payload_format_indicator);
  PropU32(s, id::kMessageExpiryInterval, p->message_expiry_interval_seconds);
  PropField(s, id::kResponseTopic, p->response_topic);
  PropField(s, id::kCorrelationData, p->correlation_data);
  for (uint32_t subscription_id : p->subscription_identifiers) {
    PropVbi(s, id::kSubscriptionIdentifier, subscription_id);
  }
  PropField(s, id::kContentType, p->content_type);
  PropUsers(s, p->user_properties);
}

// PUBACK and SUBACK: Reason String and User Properties.
template <typename Sink>
void WriteReasonProperties(const absl::optional<std::string>& reason_string,
                           const std::vector<MqttUserProperty>& users,
                           Sink& s) {
  PropField(s, mqtt_property::kReasonString, reason_string);
  PropUsers(s, users);
}

template <typename Sink>
void WriteSubscribeProperties(const MqttSubscribe& sub, Sink& s) {
  if (sub.subscription_identifier) {
    PropVbi(s, mqtt_property::kSubscriptionIdentifier,
            *sub.subscription_identifier);
  }
  PropUsers(s, sub.user_properties);
}

template <typename Sink>
void WriteDisconnectProperties(const MqttDisconnect& d, Sink& s) {
  namespace id = mqtt_property;
  PropU32(s, id::kSessionExpiryInterval, d.session_expiry_interval_seconds);
  PropField(s, id::kReasonString, d.reason_string);
  PropField(s, id::kServerReference, d.server_reference);
  PropUsers(s, d.user_properties);
}

// --- Reading ----------------------------------------------------------------

absl::Status ReadConnectProperties(Reader& r, MqttConnectProperties* p);
// The Will Properties of a CONNECT.
absl::Status ReadWillProperties(Reader& r, MqttWillProperties* p);
absl::Status ReadConnackProperties(Reader& r, MqttConnackProperties* p);
absl::Status ReadPublishProperties(Reader& r,
                                   absl::optional<uint16_t>* topic_alias,
                                   MqttPublishProperties* p);
// Reason String and User Properties of a PUBACK or SUBACK (`type`).
absl::Status ReadReasonProperties(Reader& r, MqttPacketType type,
                                  absl::optional<std::string>* reason_string,
                                  std::vector<MqttUserProperty>* users);
// Subscription Identifier and User Properties of a SUBSCRIBE.
absl::Status ReadSubscribeProperties(Reader& r, MqttSubscribe* s);
// Session Expiry Interval, Reason String, Server Reference and User
// Properties of a DISCONNECT.
absl::Status ReadDisconnectProperties(Reader& r, MqttDisconnect* d);

}  // namespace cloudlink::mqtt::internal
