#pragma once

// Internal to server/mqtt: MQTT 5.0 properties (section 2.2.2), both ways.
//
// Writing: Write*Properties put one packet's properties into a Sink (see
// mqtt_wire.h), in the order of the Visit*Properties lists, nothing for an
// absent property. They write the properties only; the caller writes the
// Property Length before them (measured with a SizeCounter).
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

// --- Each packet's properties, listed once ----------------------------------
//
// `visit(id, field)` for each property of the packet, in the order they are
// written. The writers below and the readers in the .cc go through these
// lists, so a property is added in one place. `P` is the struct or its const.
// A field is an absl::optional of uint8_t, uint16_t, uint32_t or
// std::string, or a std::vector of MqttUserProperty or uint32_t (Subscription
// Identifiers, the only Variable Byte Integer property).

template <typename P, typename Visit>
void VisitConnectProperties(P& p, Visit&& visit) {
  namespace id = mqtt_property;
  visit(id::kSessionExpiryInterval, p.session_expiry_interval_seconds);
  visit(id::kReceiveMaximum, p.receive_maximum);
  visit(id::kMaximumPacketSize, p.maximum_packet_size);
  visit(id::kTopicAliasMaximum, p.topic_alias_maximum);
  visit(id::kRequestResponseInformation, p.request_response_information);
  visit(id::kRequestProblemInformation, p.request_problem_information);
  visit(id::kAuthenticationMethod, p.authentication_method);
  visit(id::kAuthenticationData, p.authentication_data);
  visit(id::kUserProperty, p.user_properties);
}

template <typename P, typename Visit>
void VisitWillProperties(P& p, Visit&& visit) {
  namespace id = mqtt_property;
  visit(id::kWillDelayInterval, p.will_delay_interval_seconds);
  visit(id::kPayloadFormatIndicator, p.payload_format_indicator);
  visit(id::kMessageExpiryInterval, p.message_expiry_interval_seconds);
  visit(id::kContentType, p.content_type);
  visit(id::kResponseTopic, p.response_topic);
  visit(id::kCorrelationData, p.correlation_data);
  visit(id::kUserProperty, p.user_properties);
}

template <typename P, typename Visit>
void VisitConnackProperties(P& p, Visit&& visit) {
  namespace id = mqtt_property;
  visit(id::kSessionExpiryInterval, p.session_expiry_interval_seconds);
  visit(id::kReceiveMaximum, p.receive_maximum);
  visit(id::kMaximumQos, p.maximum_qos);
  visit(id::kRetainAvailable, p.retain_available);
  visit(id::kMaximumPacketSize, p.maximum_packet_size);
  visit(id::kAssignedClientIdentifier, p.assigned_client_identifier);
  visit(id::kTopicAliasMaximum, p.topic_alias_maximum);
  visit(id::kReasonString, p.reason_string);
  visit(id::kWildcardSubscriptionAvailable, p.wildcard_subscription_available);
  visit(id::kSubscriptionIdentifierAvailable,
        p.subscription_identifiers_available);
  visit(id::kSharedSubscriptionAvailable, p.shared_subscription_available);
  visit(id::kServerKeepAlive, p.server_keep_alive_seconds);
  visit(id::kResponseInformation, p.response_information);
  visit(id::kServerReference, p.server_reference);
  visit(id::kAuthenticationMethod, p.authentication_method);
  visit(id::kAuthenticationData, p.authentication_data);
  visit(id::kUserProperty, p.user_properties);
}

// Without the Topic Alias, which MqttPublish holds itself.
template <typename P, typename Visit>
void VisitPublishProperties(P& p, Visit&& visit) {
  namespace id = mqtt_property;
  visit(id::kPayloadFormatIndicator, p.payload_format_indicator);
  visit(id::kMessageExpiryInterval, p.message_expiry_interval_seconds);
  visit(id::kResponseTopic, p.response_topic);
  visit(id::kCorrelationData, p.correlation_data);
  visit(id::kSubscriptionIdentifier, p.subscription_identifiers);
  visit(id::kContentType, p.content_type);
  visit(id::kUserProperty, p.user_properties);
}

// SUBSCRIBE's (an MqttSubscribe).
template <typename P, typename Visit>
void VisitSubscribeProperties(P& p, Visit&& visit) {
  visit(mqtt_property::kSubscriptionIdentifier, p.subscription_identifier);
  visit(mqtt_property::kUserProperty, p.user_properties);
}

// DISCONNECT's (an MqttDisconnect).
template <typename P, typename Visit>
void VisitDisconnectProperties(P& p, Visit&& visit) {
  namespace id = mqtt_property;
  visit(id::kSessionExpiryInterval, p.session_expiry_interval_seconds);
  visit(id::kReasonString, p.reason_string);
  visit(id::kServerReference, p.server_reference);
  visit(id::kUserProperty, p.user_properties);
}

// --- Writing ----------------------------------------------------------------

// Writes one listed field: its identifier and value, nothing when absent.
template <typename Sink>
class PropertyWriter {
 public:
  explicit PropertyWriter(Sink& s) : s_(s) {}

  void operator()(uint8_t id, const absl::optional<uint8_t>& value) const {
    if (!value) return;
    s_.Byte(id);
    s_.Byte(*value);
  }
  void operator()(uint8_t id, const absl::optional<uint16_t>& value) const {
    if (!value) return;
    s_.Byte(id);
    s_.U16(*value);
  }
  void operator()(uint8_t id, const absl::optional<uint32_t>& value) const {
    if (!value) return;
    s_.Byte(id);
    if (id == mqtt_property::kSubscriptionIdentifier) {
      s_.Vbi(*value);
    } else {
      s_.U32(*value);
    }
  }
  void operator()(uint8_t id, const absl::optional<std::string>& value) const {
    if (!value) return;
    s_.Byte(id);
    s_.Field(*value);
  }
  void operator()(uint8_t id, const std::vector<uint32_t>& values) const {
    for (uint32_t value : values) {
      s_.Byte(id);
      s_.Vbi(value);
    }
  }
  void operator()(uint8_t id,
                  const std::vector<MqttUserProperty>& users) const {
    for (const MqttUserProperty& user : users) {
      s_.Byte(id);
      s_.Field(user.name);
      s_.Field(user.value);
    }
  }

 private:
  Sink& s_;
};

template <typename Sink>
void WriteConnectProperties(const MqttConnectProperties& p, Sink& s) {
  VisitConnectProperties(p, PropertyWriter<Sink>(s));
}

template <typename Sink>
void WriteWillProperties(const MqttWillProperties& p, Sink& s) {
  VisitWillProperties(p, PropertyWriter<Sink>(s));
}

template <typename Sink>
void WriteConnackProperties(const MqttConnackProperties& p, Sink& s) {
  VisitConnackProperties(p, PropertyWriter<Sink>(s));
}

// Topic Alias first, then `p`'s properties (none when `p` is null).
template <typename Sink>
void WritePublishProperties(const absl::optional<uint16_t>& topic_alias,
                            const MqttPublishProperties* p, Sink& s) {
  const PropertyWriter<Sink> write(s);
  write(mqtt_property::kTopicAlias, topic_alias);
  if (p != nullptr) VisitPublishProperties(*p, write);
}

// PUBACK and SUBACK: Reason String and User Properties.
template <typename Sink>
void WriteReasonProperties(const absl::optional<std::string>& reason_string,
                           const std::vector<MqttUserProperty>& users,
                           Sink& s) {
  const PropertyWriter<Sink> write(s);
  write(mqtt_property::kReasonString, reason_string);
  write(mqtt_property::kUserProperty, users);
}

template <typename Sink>
void WriteSubscribeProperties(const MqttSubscribe& sub, Sink& s) {
  VisitSubscribeProperties(sub, PropertyWriter<Sink>(s));
}

template <typename Sink>
void WriteDisconnectProperties(const MqttDisconnect& d, Sink& s) {
  VisitDisconnectProperties(d, PropertyWriter<Sink>(s));
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
