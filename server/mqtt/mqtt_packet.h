#pragma once

// Plain values for the MQTT 5.0 packets the node exchanges with the broker
// (OASIS MQTT Version 5.0, 7 March 2019), and the wire's size limits.
// Encoding lives in mqtt_encoder.h, decoding in mqtt_decoder.h; these structs
// hold no wire state and do no validation.
//
// Conventions:
// - An absent optional property is not sent; a present one is sent even when
//   it equals the protocol default.
// - Integer fields named *_seconds carry the wire's whole seconds (MQTT has no
//   finer unit); convert to absl::Duration at the session layer.
// - Strings are bytes: UTF-8 text fields must be valid MQTT UTF-8 (the decoder
//   checks; the encoder trusts the caller), binary fields may hold anything.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "absl/types/variant.h"

namespace cloudlink::mqtt {

// Longest UTF-8 string or binary field: its length prefix has two bytes.
inline constexpr size_t kMqttMaxFieldLength = 65535;
// Largest Remaining Length a Variable Byte Integer can express.
inline constexpr uint32_t kMqttMaxRemainingLength = 268435455;
// Largest whole packet: 1 byte type, 4 bytes length, the rest.
inline constexpr uint32_t kMqttMaxPacketSize = 1 + 4 + kMqttMaxRemainingLength;

// Control packet types (fixed header bits 7-4), MQTT 5.0 section 2.1.2.
enum class MqttPacketType : uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
  kAuth = 15,
};

// "CONNECT", "PUBLISH", ...; "RESERVED" for 0.
const char* MqttPacketTypeName(MqttPacketType type);

// Property identifiers, MQTT 5.0 section 2.2.2.2.
namespace mqtt_property {
inline constexpr uint8_t kPayloadFormatIndicator = 0x01;
inline constexpr uint8_t kMessageExpiryInterval = 0x02;
inline constexpr uint8_t kContentType = 0x03;
inline constexpr uint8_t kResponseTopic = 0x08;
inline constexpr uint8_t kCorrelationData = 0x09;
inline constexpr uint8_t kSubscriptionIdentifier = 0x0B;
inline constexpr uint8_t kSessionExpiryInterval = 0x11;
inline constexpr uint8_t kAssignedClientIdentifier = 0x12;
inline constexpr uint8_t kServerKeepAlive = 0x13;
inline constexpr uint8_t kAuthenticationMethod = 0x15;
inline constexpr uint8_t kAuthenticationData = 0x16;
inline constexpr uint8_t kRequestProblemInformation = 0x17;
inline constexpr uint8_t kWillDelayInterval = 0x18;
inline constexpr uint8_t kRequestResponseInformation = 0x19;
inline constexpr uint8_t kResponseInformation = 0x1A;
inline constexpr uint8_t kServerReference = 0x1C;
inline constexpr uint8_t kReasonString = 0x1F;
inline constexpr uint8_t kReceiveMaximum = 0x21;
inline constexpr uint8_t kTopicAliasMaximum = 0x22;
inline constexpr uint8_t kTopicAlias = 0x23;
inline constexpr uint8_t kMaximumQos = 0x24;
inline constexpr uint8_t kRetainAvailable = 0x25;
inline constexpr uint8_t kUserProperty = 0x26;
inline constexpr uint8_t kMaximumPacketSize = 0x27;
inline constexpr uint8_t kWildcardSubscriptionAvailable = 0x28;
inline constexpr uint8_t kSubscriptionIdentifierAvailable = 0x29;
inline constexpr uint8_t kSharedSubscriptionAvailable = 0x2A;
}  // namespace mqtt_property

// Reason codes, MQTT 5.0 section 2.4. Values below 0x80 mean success.
namespace mqtt_reason {
inline constexpr uint8_t kSuccess = 0x00;  // also Normal disconnection,
                                           // Granted QoS 0
inline constexpr uint8_t kGrantedQos1 = 0x01;
inline constexpr uint8_t kGrantedQos2 = 0x02;
inline constexpr uint8_t kDisconnectWithWillMessage = 0x04;
inline constexpr uint8_t kNoMatchingSubscribers = 0x10;
inline constexpr uint8_t kNoSubscriptionExisted = 0x11;
inline constexpr uint8_t kContinueAuthentication = 0x18;
inline constexpr uint8_t kReAuthenticate = 0x19;
inline constexpr uint8_t kUnspecifiedError = 0x80;
inline constexpr uint8_t kMalformedPacket = 0x81;
inline constexpr uint8_t kProtocolError = 0x82;
inline constexpr uint8_t kImplementationSpecificError = 0x83;
inline constexpr uint8_t kUnsupportedProtocolVersion = 0x84;
inline constexpr uint8_t kClientIdentifierNotValid = 0x85;
inline constexpr uint8_t kBadUserNameOrPassword = 0x86;
inline constexpr uint8_t kNotAuthorized = 0x87;
inline constexpr uint8_t kServerUnavailable = 0x88;
inline constexpr uint8_t kServerBusy = 0x89;
inline constexpr uint8_t kBanned = 0x8A;
inline constexpr uint8_t kServerShuttingDown = 0x8B;
inline constexpr uint8_t kBadAuthenticationMethod = 0x8C;
inline constexpr uint8_t kKeepAliveTimeout = 0x8D;
inline constexpr uint8_t kSessionTakenOver = 0x8E;
inline constexpr uint8_t kTopicFilterInvalid = 0x8F;
inline constexpr uint8_t kTopicNameInvalid = 0x90;
inline constexpr uint8_t kPacketIdentifierInUse = 0x91;
inline constexpr uint8_t kPacketIdentifierNotFound = 0x92;
inline constexpr uint8_t kReceiveMaximumExceeded = 0x93;
inline constexpr uint8_t kTopicAliasInvalid = 0x94;
inline constexpr uint8_t kPacketTooLarge = 0x95;
inline constexpr uint8_t kMessageRateTooHigh = 0x96;
inline constexpr uint8_t kQuotaExceeded = 0x97;
inline constexpr uint8_t kAdministrativeAction = 0x98;
inline constexpr uint8_t kPayloadFormatInvalid = 0x99;
inline constexpr uint8_t kRetainNotSupported = 0x9A;
inline constexpr uint8_t kQosNotSupported = 0x9B;
inline constexpr uint8_t kUseAnotherServer = 0x9C;
inline constexpr uint8_t kServerMoved = 0x9D;
inline constexpr uint8_t kSharedSubscriptionsNotSupported = 0x9E;
inline constexpr uint8_t kConnectionRateExceeded = 0x9F;
inline constexpr uint8_t kMaximumConnectTime = 0xA0;
inline constexpr uint8_t kSubscriptionIdentifiersNotSupported = 0xA1;
inline constexpr uint8_t kWildcardSubscriptionsNotSupported = 0xA2;
}  // namespace mqtt_reason

// A User Property (0x26): a name/value pair; may repeat, order is kept.
struct MqttUserProperty {
  std::string name;
  std::string value;
  bool operator==(const MqttUserProperty& o) const {
    return name == o.name && value == o.value;
  }
};

// CONNECT properties (section 3.1.2.11).
struct MqttConnectProperties {
  absl::optional<uint32_t> session_expiry_interval_seconds;  // 0x11
  absl::optional<uint16_t> receive_maximum;                  // 0x21, not 0
  absl::optional<uint32_t> maximum_packet_size;              // 0x27, not 0
  absl::optional<uint16_t> topic_alias_maximum;              // 0x22
  absl::optional<uint8_t> request_response_information;      // 0x19, 0 or 1
  absl::optional<uint8_t> request_problem_information;       // 0x17, 0 or 1
  absl::optional<std::string> authentication_method;         // 0x15
  absl::optional<std::string> authentication_data;           // 0x16, binary
  std::vector<MqttUserProperty> user_properties;             // 0x26
  bool operator==(const MqttConnectProperties& o) const;
};

// Will properties (section 3.1.3.2).
struct MqttWillProperties {
  absl::optional<uint32_t> will_delay_interval_seconds;      // 0x18
  absl::optional<uint8_t> payload_format_indicator;          // 0x01, 0 or 1
  absl::optional<uint32_t> message_expiry_interval_seconds;  // 0x02
  absl::optional<std::string> content_type;                  // 0x03
  absl::optional<std::string> response_topic;                // 0x08
  absl::optional<std::string> correlation_data;              // 0x09, binary
  std::vector<MqttUserProperty> user_properties;             // 0x26
  bool operator==(const MqttWillProperties& o) const;
};

// The Will Message a broker publishes when the connection ends without a
// DISCONNECT (reason 0).
struct MqttWill {
  std::string topic;
  std::string payload;  // binary
  uint8_t qos = 0;      // 0..2
  bool retain = false;
  MqttWillProperties properties;
  bool operator==(const MqttWill& o) const;
};

struct MqttConnect {
  bool clean_start = true;
  uint16_t keep_alive_seconds = 0;  // 0 turns keep alive off
  std::string client_id;            // may be empty (server assigns one)
  absl::optional<std::string> username;
  absl::optional<std::string> password;  // binary; a secret, never log it
  absl::optional<MqttWill> will;
  MqttConnectProperties properties;
  bool operator==(const MqttConnect& o) const;
};

// CONNACK properties (section 3.2.2.3).
struct MqttConnackProperties {
  absl::optional<uint32_t> session_expiry_interval_seconds;    // 0x11
  absl::optional<uint16_t> receive_maximum;                    // 0x21, not 0
  absl::optional<uint8_t> maximum_qos;                         // 0x24, 0 or 1
  absl::optional<uint8_t> retain_available;                    // 0x25, 0 or 1
  absl::optional<uint32_t> maximum_packet_size;                // 0x27, not 0
  absl::optional<std::string> assigned_client_identifier;      // 0x12
  absl::optional<uint16_t> topic_alias_maximum;                // 0x22
  absl::optional<std::string> reason_string;                   // 0x1F
  absl::optional<uint8_t> wildcard_subscription_available;     // 0x28, 0 or 1
  absl::optional<uint8_t> subscription_identifiers_available;  // 0x29, 0/1
  absl::optional<uint8_t> shared_subscription_available;       // 0x2A, 0 or 1
  absl::optional<uint16_t> server_keep_alive_seconds;          // 0x13
  absl::optional<std::string> response_information;            // 0x1A
  absl::optional<std::string> server_reference;                // 0x1C
  absl::optional<std::string> authentication_method;           // 0x15
  absl::optional<std::string> authentication_data;             // 0x16, binary
  std::vector<MqttUserProperty> user_properties;               // 0x26
  bool operator==(const MqttConnackProperties& o) const;
};

struct MqttConnack {
  bool session_present = false;
  uint8_t reason_code = mqtt_reason::kSuccess;
  MqttConnackProperties properties;
  bool operator==(const MqttConnack& o) const;
};

// PUBLISH properties other than Topic Alias (section 3.3.2.3).
struct MqttPublishProperties {
  absl::optional<uint8_t> payload_format_indicator;          // 0x01, 0 or 1
  absl::optional<uint32_t> message_expiry_interval_seconds;  // 0x02
  absl::optional<std::string> response_topic;                // 0x08
  absl::optional<std::string> correlation_data;              // 0x09, binary
  std::vector<uint32_t> subscription_identifiers;            // 0x0B, may
                                                             // repeat, not 0
  absl::optional<std::string> content_type;                  // 0x03
  std::vector<MqttUserProperty> user_properties;             // 0x26
  bool empty() const;
  bool operator==(const MqttPublishProperties& o) const;
};

struct MqttPublish {
  bool dup = false;
  uint8_t qos = 0;  // 0..2
  bool retain = false;
  // Empty only when `topic_alias` names a topic the receiver already knows.
  std::string topic;
  uint16_t packet_id = 0;  // present on the wire (and not 0) only if qos > 0
  absl::optional<uint16_t> topic_alias;  // 0x23, not 0
  MqttPublishProperties properties;
  std::string payload;  // binary
  bool operator==(const MqttPublish& o) const;
};

// PUBACK (section 3.4).
struct MqttPuback {
  uint16_t packet_id = 0;  // not 0
  uint8_t reason_code = mqtt_reason::kSuccess;
  absl::optional<std::string> reason_string;      // 0x1F
  std::vector<MqttUserProperty> user_properties;  // 0x26
  bool operator==(const MqttPuback& o) const;
};

// One Topic Filter of a SUBSCRIBE with its Subscription Options (3.8.3.1).
struct MqttSubscription {
  std::string topic_filter;
  uint8_t max_qos = 0;  // 0..2
  bool no_local = false;
  bool retain_as_published = false;
  uint8_t retain_handling = 0;  // 0..2
  bool operator==(const MqttSubscription& o) const;
};

// SUBSCRIBE (section 3.8).
struct MqttSubscribe {
  uint16_t packet_id = 0;                            // not 0
  absl::optional<uint32_t> subscription_identifier;  // 0x0B, 1..268435455
  std::vector<MqttUserProperty> user_properties;     // 0x26
  std::vector<MqttSubscription> subscriptions;       // at least one
  bool operator==(const MqttSubscribe& o) const;
};

// SUBACK (section 3.9): one reason code per Topic Filter, in order.
struct MqttSuback {
  uint16_t packet_id = 0;                         // not 0
  absl::optional<std::string> reason_string;      // 0x1F
  std::vector<MqttUserProperty> user_properties;  // 0x26
  std::vector<uint8_t> reason_codes;
  bool operator==(const MqttSuback& o) const;
};

struct MqttPingreq {
  bool operator==(const MqttPingreq&) const { return true; }
};

struct MqttPingresp {
  bool operator==(const MqttPingresp&) const { return true; }
};

// DISCONNECT (section 3.14), sent by either side.
struct MqttDisconnect {
  uint8_t reason_code = mqtt_reason::kSuccess;  // Normal disconnection
  absl::optional<uint32_t> session_expiry_interval_seconds;  // 0x11
  absl::optional<std::string> reason_string;                 // 0x1F
  absl::optional<std::string> server_reference;              // 0x1C
  std::vector<MqttUserProperty> user_properties;             // 0x26
  bool operator==(const MqttDisconnect& o) const;
};

// Any packet the encoder and decoder handle. The alternative's index carries
// no meaning; use absl::holds_alternative / absl::get_if.
using MqttPacket = absl::variant<MqttConnect, MqttConnack, MqttPublish,
                                 MqttPuback, MqttSubscribe, MqttSuback,
                                 MqttPingreq, MqttPingresp, MqttDisconnect>;

// The control packet type of `packet`.
MqttPacketType TypeOf(const MqttPacket& packet);

// For debug logs: the packet's type and what identifies it, never its
// payload or credentials: "CONNACK (reason 0x00)", "PUBLISH (qos 1, id 7,
// topic /agent/x/inbound/cmd, 120 bytes)", "PUBACK (id 7, reason 0x00)",
// "SUBACK (id 1)", "DISCONNECT (reason 0x8e)", "PINGRESP".
std::string DescribePacket(const MqttPacket& packet);

// For debug logs: the types of the whole packets in `bytes`, in order, each
// with its length ("CONNECT 212 bytes, SUBSCRIBE 58 bytes"). Reads only the
// fixed headers; a malformed or cut-off header ends the list with
// "(malformed)".
std::string DescribePackets(absl::string_view bytes);

}  // namespace cloudlink::mqtt
