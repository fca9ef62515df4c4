#include "server/mqtt/mqtt_packet.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cloudlink::mqtt {

const char* MqttPacketTypeName(MqttPacketType type) {
  switch (type) {
    case MqttPacketType::kConnect:
      return "CONNECT";
    case MqttPacketType::kConnack:
      return "CONNACK";
    case MqttPacketType::kPublish:
      return "PUBLISH";
    case MqttPacketType::kPuback:
      return "PUBACK";
    case MqttPacketType::kPubrec:
      return "PUBREC";
    case MqttPacketType::kPubrel:
      return "PUBREL";
    case MqttPacketType::kPubcomp:
      return "PUBCOMP";
    case MqttPacketType::kSubscribe:
      return "SUBSCRIBE";
    case MqttPacketType::kSuback:
      return "SUBACK";
    case MqttPacketType::kUnsubscribe:
      return "UNSUBSCRIBE";
    case MqttPacketType::kUnsuback:
      return "UNSUBACK";
    case MqttPacketType::kPingreq:
      return "PINGREQ";
    case MqttPacketType::kPingresp:
      return "PINGRESP";
    case MqttPacketType::kDisconnect:
      return "DISCONNECT";
    case MqttPacketType::kAuth:
      return "AUTH";
  }
  return "RESERVED";
}

bool MqttConnectProperties::operator==(const MqttConnectProperties& o) const {
  return std::tie(session_expiry_interval_seconds, receive_maximum,
                  maximum_packet_size, topic_alias_maximum,
                  request_response_information, request_problem_information,
                  authentication_method, authentication_data,
                  user_properties) ==
         std::tie(o.session_expiry_interval_seconds, o.receive_maximum,
                  o.maximum_packet_size, o.topic_alias_maximum,
                  o.request_response_information, o.request_problem_information,
                  o.authentication_method, o.authentication_data,
                  o.user_properties);
}

bool MqttWillProperties::operator==(const MqttWillProperties& o) const {
  return std::tie(will_delay_interval_seconds, payload_format_indicator,
                  message_expiry_interval_seconds, content_type, response_topic,
                  correlation_data, user_properties) ==
         std::tie(o.will_delay_interval_seconds, o.payload_format_indicator,
                  o.message_expiry_interval_seconds, o.content_type,
                  o.response_topic, o.correlation_data, o.user_properties);
}

bool MqttWill::operator==(const MqttWill& o) const {
  return std::tie(topic, payload, qos, retain, properties) ==
         std::tie(o.topic, o.payload, o.qos, o.retain, o.properties);
}

bool MqttConnect::operator==(const MqttConnect& o) const {
  return std::tie(clean_start, keep_alive_seconds, client_id, username,
                  password, will, properties) ==
         std::tie(o.clean_start, o.keep_alive_seconds, o.client_id, o.username,
                  o.password, o.will, o.properties);
}

bool MqttConnackProperties::operator==(const MqttConnackProperties& o) const {
  return std::tie(session_expiry_interval_seconds, receive_maximum, maximum_qos,
                  retain_available, maximum_packet_size,
                  assigned_client_identifier, topic_alias_maximum,
                  reason_string, wildcard_subscription_available,
                  subscription_identifiers_available,
                  shared_subscription_available, server_keep_alive_seconds,
                  response_information, server_reference, authentication_method,
                  authentication_data, user_properties) ==
         std::tie(o.session_expiry_interval_seconds, o.receive_maximum,
                  o.maximum_qos, o.retain_available, o.maximum_packet_size,
                  o.assigned_client_identifier, o.topic_alias_maximum,
                  o.reason_string, o.wildcard_subscription_available,
                  o.subscription_identifiers_available,
                  o.shared_subscription_available, o.server_keep_alive_seconds,
                  o.response_information, o.server_reference,
                  o.authentication_method, o.authentication_data,
                  o.user_properties);
}

bool MqttConnack::operator==(const MqttConnack& o) const {
  return std::tie(session_present, reason_code, properties) ==
         std::tie(o.session_present, o.reason_code, o.properties);
}

bool MqttPublishProperties::empty() const {
  return !payload_format_indicator && !message_expiry_interval_seconds &&
         !response_topic && !correlation_data &&
         subscription_identifiers.empty() && !content_type &&
         user_properties.empty();
}

bool MqttPublishProperties::operator==(const MqttPublishProperties& o) const {
  return std::tie(payload_format_indicator, message_expiry_interval_seconds,
                  response_topic, correlation_data, subscription_identifiers,
                  content_type, user_properties) ==
         std::tie(o.payload_format_indicator, o.message_expiry_interval_seconds,
                  o.response_topic, o.correlation_data,
                  o.subscription_identifiers, o.content_type,
                  o.user_properties);
}

bool MqttPublish::operator==(const MqttPublish& o) const {
  return std::tie(dup, qos, retain, topic, packet_id, topic_alias, properties,
                  payload) == std::tie(o.dup, o.qos, o.retain, o.topic,
                                       o.packet_id, o.topic_alias, o.properties,
                                       o.payload);
}

bool MqttPuback::operator==(const MqttPuback& o) const {
  return std::tie(packet_id, reason_code, reason_string, user_properties) ==
         std::tie(o.packet_id, o.reason_code, o.reason_string,
                  o.user_properties);
}

bool MqttSubscription::operator==(const MqttSubscription& o) const {
  return std::tie(topic_filter, max_qos, no_local, retain_as_published,
                  retain_handling) ==
         std::tie(o.topic_filter, o.max_qos, o.no_local, o.retain_as_published,
                  o.retain_handling);
}

bool MqttSubscribe::operator==(const MqttSubscribe& o) const {
  return std::tie(packet_id, subscription_identifier, user_properties,
                  subscriptions) ==
         std::tie(o.packet_id, o.subscription_identifier, o.user_properties,
                  o.subscriptions);
}

bool MqttSuback::operator==(const MqttSuback& o) const {
  return std::tie(packet_id, reason_string, user_properties, reason_codes) ==
         std::tie(o.packet_id, o.reason_string, o.user_properties,
                  o.reason_codes);
}

bool MqttDisconnect::operator==(const MqttDisconnect& o) const {
  return std::tie(reason_code, session_expiry_interval_seconds, reason_string,
                  server_reference, user_properties) ==
         std::tie(o.reason_code, o.session_expiry_interval_seconds,
                  o.reason_string, o.server_reference, o.user_properties);
}

namespace {

struct PacketTypeVisitor {
  MqttPacketType operator()(const MqttConnect&) const {
    return MqttPacketType::kConnect;
  }
  MqttPacketType operator()(const MqttConnack&) const {
    return MqttPacketType::kConnack;
  }
  MqttPacketType operator()(const MqttPublish&) const {
    return MqttPacketType::kPublish;
  }
  MqttPacketType operator()(const MqttPuback&) const {
    return MqttPacketType::kPuback;
  }
  MqttPacketType operator()(const MqttSubscribe&) const {
    return MqttPacketType::kSubscribe;
  }
  MqttPacketType operator()(const MqttSuback&) const {
    return MqttPacketType::kSuback;
  }
  MqttPacketType operator()(const MqttPingreq&) const {
    return MqttPacketType::kPingreq;
  }
  MqttPacketType operator()(const MqttPingresp&) const {
    return MqttPacketType::kPingresp;
  }
  MqttPacketType operator()(const MqttDisconnect&) const {
    return MqttPacketType::kDisconnect;
  }
};

}  // namespace

MqttPacketType TypeOf(const MqttPacket& packet) {
  return absl::visit(PacketTypeVisitor{}, packet);
}

namespace {

std::string Hex(uint8_t code) { return absl::StrFormat("0x%02x", code); }

}  // namespace

std::string DescribePacket(const MqttPacket& packet) {
  std::string text = MqttPacketTypeName(TypeOf(packet));
  if (const auto* connack = absl::get_if<MqttConnack>(&packet)) {
    absl::StrAppend(&text, " (reason ", Hex(connack->reason_code),
                    connack->session_present ? ", session present" : "", ")");
  } else if (const auto* publish = absl::get_if<MqttPublish>(&packet)) {
    absl::StrAppend(&text, " (qos ", publish->qos);
    if (publish->qos > 0) absl::StrAppend(&text, ", id ", publish->packet_id);
    absl::StrAppend(&text, ", topic ", publish->topic, ", ",
                    publish->payload.size(), " bytes)");
  } else if (const auto* puback = absl::get_if<MqttPuback>(&packet)) {
    absl::StrAppend(&text, " (id ", puback->packet_id, ", reason ",
                    Hex(puback->reason_code), ")");
  } else if (const auto* suback = absl::get_if<MqttSuback>(&packet)) {
    absl::StrAppend(&text, " (id ", suback->packet_id, ")");
  } else if (const auto* disconnect = absl::get_if<MqttDisconnect>(&packet)) {
    absl::StrAppend(&text, " (reason ", Hex(disconnect->reason_code), ")");
  }
  return text;
}

std::string DescribePackets(absl::string_view bytes) {
  std::string text;
  size_t at = 0;
  while (at < bytes.size()) {
    const uint8_t type = static_cast<uint8_t>(bytes[at]) >> 4;
    // The Remaining Length: 1 to 4 bytes, 7 bits each (section 1.5.5).
    uint32_t length = 0;
    size_t i = at + 1;
    int shift = 0;
    bool complete = false;
    while (i < bytes.size() && shift <= 21) {
      const uint8_t byte = static_cast<uint8_t>(bytes[i++]);
      length |= static_cast<uint32_t>(byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) == 0) {
        complete = true;
        break;
      }
    }
    if (!text.empty()) text += ", ";
    if (!complete || bytes.size() - i < length) {
      text += "(malformed)";
      break;
    }
    const size_t total = i - at + length;
    absl::StrAppend(&text,
                    MqttPacketTypeName(static_cast<MqttPacketType>(type)), " ",
                    total, " bytes");
    at += total;
  }
  return text;
}

}  // namespace cloudlink::mqtt
