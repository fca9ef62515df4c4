#include "server/mqtt/mqtt_codec.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/error.h"
#include "server/common/status_macros.h"
#include "server/common/utf8.h"

namespace cloudlink::mqtt {
namespace {

constexpr size_t kMaxFieldLength = 65535;
constexpr uint32_t kMaxVbi = kMqttMaxRemainingLength;

absl::Status Malformed(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kMqttMalformed,
               sentence);
}

absl::Status ProtocolError(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kMqttProtocolError,
               sentence);
}

absl::Status TooLarge(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kMqttPacketTooLarge,
               sentence);
}

size_t VbiSize(uint32_t value) {
  if (value < 128) return 1;
  if (value < 16384) return 2;
  if (value < 2097152) return 3;
  return 4;
}

// Writes `value` (at most kMaxVbi) as a Variable Byte Integer at `at`;
// returns the number of bytes written (1..4).
size_t PutVbi(uint32_t value, char* at) {
  size_t n = 0;
  do {
    uint8_t digit = value & 0x7F;
    value >>= 7;
    if (value != 0) digit |= 0x80;
    at[n++] = static_cast<char>(digit);
  } while (value != 0 && n < 4);
  return n;
}

// ---------------------------------------------------------------------------
// Encoding: every packet body is written by one template run twice, first
// with a SizeCounter to learn the Remaining Length (and whether any field is
// out of range), then with an Appender into the reserved output.

class SizeCounter {
 public:
  void Byte(uint8_t) { size_ += 1; }
  void U16(uint16_t) { size_ += 2; }
  void U32(uint32_t) { size_ += 4; }
  void Vbi(uint32_t value) {
    if (value > kMaxVbi) vbi_too_large_ = true;
    size_ += VbiSize(value);
  }
  // A two-byte length followed by the bytes (UTF-8 string or binary data).
  void Field(absl::string_view bytes) {
    if (bytes.size() > kMaxFieldLength) field_too_long_ = true;
    size_ += 2 + bytes.size();
  }
  void Raw(absl::string_view bytes) { size_ += bytes.size(); }

  size_t size() const { return size_; }
  bool field_too_long() const { return field_too_long_; }
  bool vbi_too_large() const { return vbi_too_large_; }

 private:
  size_t size_ = 0;
  bool field_too_long_ = false;
  bool vbi_too_large_ = false;
};

class Appender {
 public:
  explicit Appender(std::string* out) : out_(out) {}
  void Byte(uint8_t value) { out_->push_back(static_cast<char>(value)); }
  void U16(uint16_t value) {
    const char bytes[2] = {static_cast<char>(value >> 8),
                           static_cast<char>(value)};
    out_->append(bytes, 2);
  }
  void U32(uint32_t value) {
    const char bytes[4] = {
        static_cast<char>(value >> 24), static_cast<char>(value >> 16),
        static_cast<char>(value >> 8), static_cast<char>(value)};
    out_->append(bytes, 4);
  }
  void Vbi(uint32_t value) {
    char bytes[4];
    out_->append(bytes, PutVbi(value, bytes));
  }
  void Field(absl::string_view bytes) {
    U16(static_cast<uint16_t>(bytes.size()));
    out_->append(bytes.data(), bytes.size());
  }
  void Raw(absl::string_view bytes) {
    out_->append(bytes.data(), bytes.size());
  }

 private:
  std::string* out_;
};

// Property writers: nothing for an absent property.
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

template <typename Sink>
void WriteReasonProperties(const absl::optional<std::string>& reason_string,
                           const std::vector<MqttUserProperty>& users,
                           Sink& s) {
  PropField(s, mqtt_property::kReasonString, reason_string);
  PropUsers(s, users);
}

template <typename Sink>
void WriteDisconnectProperties(const MqttDisconnect& d, Sink& s) {
  namespace id = mqtt_property;
  PropU32(s, id::kSessionExpiryInterval, d.session_expiry_interval_seconds);
  PropField(s, id::kReasonString, d.reason_string);
  PropField(s, id::kServerReference, d.server_reference);
  PropUsers(s, d.user_properties);
}

// The length of what `write` produces. A length beyond the Remaining Length
// limit comes back as kMaxVbi + 1; the packet's body, which contains the same
// fields, is then refused by AppendPacket (as is any over-long field).
template <typename Write>
uint32_t Measure(const Write& write) {
  SizeCounter counter;
  write(counter);
  return static_cast<uint32_t>(counter.size() > kMaxVbi ? kMaxVbi + 1
                                                        : counter.size());
}

// Appends one packet: the fixed header byte `first_byte`, the Remaining
// Length, and the body `write_body` produces; or an error with `*out` as it
// was.
template <typename WriteBody>
absl::Status AppendPacket(uint8_t first_byte, const char* packet,
                          const WriteBody& write_body, std::string* out) {
  SizeCounter counter;
  write_body(counter);
  if (counter.field_too_long()) {
    return Malformed(
        absl::StrCat("a string or binary field of ", packet,
                     " is longer than the 65535 bytes MQTT can carry"));
  }
  if (counter.vbi_too_large() || counter.size() > kMaxVbi) {
    return TooLarge(absl::StrCat(packet, " of ", counter.size(),
                                 " bytes exceeds the MQTT limit of ", kMaxVbi,
                                 " bytes"));
  }
  const uint32_t remaining = static_cast<uint32_t>(counter.size());
  out->reserve(out->size() + 1 + VbiSize(remaining) + remaining);
  Appender appender(out);
  appender.Byte(first_byte);
  appender.Vbi(remaining);
  write_body(appender);
  return absl::OkStatus();
}

uint8_t FirstByte(MqttPacketType type, uint8_t flags) {
  return static_cast<uint8_t>((static_cast<uint8_t>(type) << 4) | flags);
}

absl::Status CheckQos(uint8_t qos, const char* what) {
  if (qos > 2)
    return Malformed(absl::StrCat(what, " QoS ", qos, " is not 0, 1 or 2"));
  return absl::OkStatus();
}

absl::Status ValidatePublish(const MqttPublishView& p) {
  RETURN_IF_ERROR(CheckQos(p.qos, "PUBLISH"));
  if (p.qos > 0 && p.packet_id == 0) {
    return ProtocolError("PUBLISH with QoS > 0 needs a packet id other than 0");
  }
  if (p.qos == 0 && p.dup) {
    return ProtocolError("PUBLISH with QoS 0 must not set DUP");
  }
  if (p.topic_alias && *p.topic_alias == 0) {
    return ProtocolError("PUBLISH Topic Alias must not be 0");
  }
  if (p.topic.empty() && !p.topic_alias) {
    return ProtocolError("PUBLISH needs a topic name or a topic alias");
  }
  if (p.properties != nullptr) {
    for (uint32_t id : p.properties->subscription_identifiers) {
      if (id == 0 || id > kMaxVbi) {
        return ProtocolError(absl::StrCat("PUBLISH Subscription Identifier ",
                                          id, " is outside 1..", kMaxVbi));
      }
    }
  }
  return absl::OkStatus();
}

uint8_t PublishFirstByte(const MqttPublishView& p) {
  return FirstByte(MqttPacketType::kPublish,
                   static_cast<uint8_t>((p.dup ? 0x08 : 0) | (p.qos << 1) |
                                        (p.retain ? 0x01 : 0)));
}

// The sizes of a PUBLISH, worked out once: EncodePublish writes it with a
// single reserve.
struct PublishLayout {
  uint32_t properties_length = 0;
  uint32_t remaining_length = 0;
  size_t total_size = 0;
};

absl::Status LayOutPublish(const MqttPublishView& p, PublishLayout* layout) {
  RETURN_IF_ERROR(ValidatePublish(p));
  if (p.topic.size() > kMaxFieldLength) {
    return Malformed("PUBLISH Topic Name is longer than 65535 bytes");
  }
  uint64_t properties_length = p.topic_alias ? 3 : 0;
  if (p.properties != nullptr) {
    SizeCounter counter;
    WritePublishProperties(p.topic_alias, p.properties, counter);
    if (counter.field_too_long()) {
      return Malformed("a PUBLISH property is longer than 65535 bytes");
    }
    properties_length = counter.size();
  }
  const uint64_t remaining =
      2 + uint64_t{p.topic.size()} + (p.qos > 0 ? 2 : 0) +
      VbiSize(static_cast<uint32_t>(
          properties_length > kMaxVbi ? kMaxVbi : properties_length)) +
      properties_length + p.payload.size();
  if (properties_length > kMaxVbi || remaining > kMaxVbi) {
    return TooLarge(absl::StrCat("PUBLISH of ", remaining,
                                 " bytes exceeds the MQTT limit of ", kMaxVbi,
                                 " bytes"));
  }
  layout->properties_length = static_cast<uint32_t>(properties_length);
  layout->remaining_length = static_cast<uint32_t>(remaining);
  layout->total_size = 1 + VbiSize(layout->remaining_length) + remaining;
  return absl::OkStatus();
}

MqttPublishView ViewOf(const MqttPublish& publish) {
  MqttPublishView view;
  view.dup = publish.dup;
  view.qos = publish.qos;
  view.retain = publish.retain;
  view.topic = publish.topic;
  view.packet_id = publish.packet_id;
  view.topic_alias = publish.topic_alias;
  view.properties = publish.properties.empty() ? nullptr : &publish.properties;
  view.payload = publish.payload;
  return view;
}

// ---------------------------------------------------------------------------
// Decoding.

// Reads fields of one packet body, front to back; every read checks the
// bytes left first.
class Reader {
 public:
  Reader(absl::string_view data, const char* packet)
      : data_(data), packet_(packet) {}

  size_t remaining() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  const char* packet() const { return packet_; }

  absl::Status Byte(const char* field, uint8_t* value) {
    if (data_.empty()) return Truncated(field);
    *value = static_cast<uint8_t>(data_[0]);
    data_.remove_prefix(1);
    return absl::OkStatus();
  }

  absl::Status U16(const char* field, uint16_t* value) {
    if (data_.size() < 2) return Truncated(field);
    *value = static_cast<uint16_t>((At(0) << 8) | At(1));
    data_.remove_prefix(2);
    return absl::OkStatus();
  }

  absl::Status U32(const char* field, uint32_t* value) {
    if (data_.size() < 4) return Truncated(field);
    *value = (static_cast<uint32_t>(At(0)) << 24) |
             (static_cast<uint32_t>(At(1)) << 16) |
             (static_cast<uint32_t>(At(2)) << 8) | At(3);
    data_.remove_prefix(4);
    return absl::OkStatus();
  }

  absl::Status Vbi(const char* field, uint32_t* value) {
    uint32_t result = 0;
    for (size_t i = 0; i < 4; ++i) {
      if (i >= data_.size()) return Truncated(field);
      const uint8_t digit = At(i);
      result |= static_cast<uint32_t>(digit & 0x7F) << (7 * i);
      if ((digit & 0x80) == 0) {
        data_.remove_prefix(i + 1);
        *value = result;
        return absl::OkStatus();
      }
    }
    return Malformed(absl::StrCat(field, " in ", packet_,
                                  " is a Variable Byte Integer longer than 4 "
                                  "bytes"));
  }

  // Binary Data: two-byte length, then the bytes.
  absl::Status Binary(const char* field, absl::string_view* value) {
    uint16_t length = 0;
    RETURN_IF_ERROR(U16(field, &length));
    if (data_.size() < length) return Truncated(field);
    *value = data_.substr(0, length);
    data_.remove_prefix(length);
    return absl::OkStatus();
  }

  // UTF-8 Encoded String: Binary Data that must be valid MQTT UTF-8.
  absl::Status Utf8(const char* field, absl::string_view* value) {
    RETURN_IF_ERROR(Binary(field, value));
    if (!IsValidMqttUtf8(*value)) {
      return Malformed(absl::StrCat(field, " in ", packet_,
                                    " is not valid UTF-8 (or contains "
                                    "U+0000)"));
    }
    return absl::OkStatus();
  }

  // Splits off the next `length` bytes as their own reader.
  absl::Status Take(const char* field, size_t length, Reader* part) {
    if (data_.size() < length) return Truncated(field);
    *part = Reader(data_.substr(0, length), packet_);
    data_.remove_prefix(length);
    return absl::OkStatus();
  }

  absl::string_view Rest() {
    absl::string_view rest = data_;
    data_ = absl::string_view();
    return rest;
  }

  absl::Status ExpectEnd() const {
    if (data_.empty()) return absl::OkStatus();
    return Malformed(absl::StrCat(packet_, " has ", data_.size(),
                                  " unexpected bytes after its last field"));
  }

  absl::Status Truncated(const char* field) const {
    return Malformed(absl::StrCat("truncated ", field, " in ", packet_));
  }

 private:
  uint8_t At(size_t i) const { return static_cast<uint8_t>(data_[i]); }

  absl::string_view data_;
  const char* packet_;
};

enum class PropertyType { kByte, kU16, kU32, kVbi, kUtf8, kBinary, kUtf8Pair };

// Where a property may appear: one bit per packet type, bit 0 (the reserved
// packet type) standing for the Will Properties of a CONNECT.
constexpr uint16_t kWillContext = 1 << 0;
constexpr uint16_t Bit(MqttPacketType type) {
  return static_cast<uint16_t>(1 << static_cast<int>(type));
}
constexpr uint16_t kConnectBit = Bit(MqttPacketType::kConnect);
constexpr uint16_t kConnackBit = Bit(MqttPacketType::kConnack);
constexpr uint16_t kPublishBit = Bit(MqttPacketType::kPublish);
constexpr uint16_t kSubscribeBit = Bit(MqttPacketType::kSubscribe);
constexpr uint16_t kDisconnectBit = Bit(MqttPacketType::kDisconnect);
constexpr uint16_t kAuthBit = Bit(MqttPacketType::kAuth);
constexpr uint16_t kAllPacketsBit = 0xFFFE;  // every packet type, not Will

struct PropertyInfo {
  const char* name;  // null: no such property
  PropertyType type;
  uint16_t allowed;     // contexts it may appear in
  uint16_t repeatable;  // contexts it may appear in more than once
  bool boolean;         // the value must be 0 or 1
  bool nonzero;         // the value must not be 0
};

constexpr uint8_t kMaxPropertyId = mqtt_property::kSharedSubscriptionAvailable;

// MQTT 5.0 section 2.2.2.2, table of properties.
const PropertyInfo& InfoFor(uint8_t id) {
  static const PropertyInfo kUnknown = {
      nullptr, PropertyType::kByte, 0, 0, false, false};
  static const PropertyInfo kTable[kMaxPropertyId + 1] = {
      /*0x00*/ kUnknown,
      /*0x01*/
      {"Payload Format Indicator", PropertyType::kByte,
       kPublishBit | kWillContext, 0, true, false},
      /*0x02*/
      {"Message Expiry Interval", PropertyType::kU32,
       kPublishBit | kWillContext, 0, false, false},
      /*0x03*/
      {"Content Type", PropertyType::kUtf8, kPublishBit | kWillContext, 0,
       false, false},
      kUnknown,
      kUnknown,
      kUnknown,
      kUnknown,
      /*0x08*/
      {"Response Topic", PropertyType::kUtf8, kPublishBit | kWillContext, 0,
       false, false},
      /*0x09*/
      {"Correlation Data", PropertyType::kBinary, kPublishBit | kWillContext, 0,
       false, false},
      kUnknown,
      /*0x0B*/
      {"Subscription Identifier", PropertyType::kVbi,
       kPublishBit | kSubscribeBit, kPublishBit, false, true},
      kUnknown,
      kUnknown,
      kUnknown,
      kUnknown,
      kUnknown,
      /*0x11*/
      {"Session Expiry Interval", PropertyType::kU32,
       kConnectBit | kConnackBit | kDisconnectBit, 0, false, false},
      /*0x12*/
      {"Assigned Client Identifier", PropertyType::kUtf8, kConnackBit, 0, false,
       false},
      /*0x13*/
      {"Server Keep Alive", PropertyType::kU16, kConnackBit, 0, false, false},
      kUnknown,
      /*0x15*/
      {"Authentication Method", PropertyType::kUtf8,
       kConnectBit | kConnackBit | kAuthBit, 0, false, false},
      /*0x16*/
      {"Authentication Data", PropertyType::kBinary,
       kConnectBit | kConnackBit | kAuthBit, 0, false, false},
      /*0x17*/
      {"Request Problem Information", PropertyType::kByte, kConnectBit, 0, true,
       false},
      /*0x18*/
      {"Will Delay Interval", PropertyType::kU32, kWillContext, 0, false,
       false},
      /*0x19*/
      {"Request Response Information", PropertyType::kByte, kConnectBit, 0,
       true, false},
      /*0x1A*/
      {"Response Information", PropertyType::kUtf8, kConnackBit, 0, false,
       false},
      kUnknown,
      /*0x1C*/
      {"Server Reference", PropertyType::kUtf8, kConnackBit | kDisconnectBit, 0,
       false, false},
      kUnknown,
      kUnknown,
      /*0x1F*/
      {"Reason String", PropertyType::kUtf8,
       static_cast<uint16_t>(
           kAllPacketsBit & ~kConnectBit & ~kPublishBit & ~kSubscribeBit &
           ~Bit(MqttPacketType::kUnsubscribe) & ~Bit(MqttPacketType::kPingreq) &
           ~Bit(MqttPacketType::kPingresp)),
       0, false, false},
      kUnknown,
      /*0x21*/
      {"Receive Maximum", PropertyType::kU16, kConnectBit | kConnackBit, 0,
       false, true},
      /*0x22*/
      {"Topic Alias Maximum", PropertyType::kU16, kConnectBit | kConnackBit, 0,
       false, false},
      /*0x23*/ {"Topic Alias", PropertyType::kU16, kPublishBit, 0, false, true},
      /*0x24*/
      {"Maximum QoS", PropertyType::kByte, kConnackBit, 0, true, false},
      /*0x25*/
      {"Retain Available", PropertyType::kByte, kConnackBit, 0, true, false},
      /*0x26*/
      {"User Property", PropertyType::kUtf8Pair, kAllPacketsBit | kWillContext,
       kAllPacketsBit | kWillContext, false, false},
      /*0x27*/
      {"Maximum Packet Size", PropertyType::kU32, kConnectBit | kConnackBit, 0,
       false, true},
      /*0x28*/
      {"Wildcard Subscription Available", PropertyType::kByte, kConnackBit, 0,
       true, false},
      /*0x29*/
      {"Subscription Identifier Available", PropertyType::kByte, kConnackBit, 0,
       true, false},
      /*0x2A*/
      {"Shared Subscription Available", PropertyType::kByte, kConnackBit, 0,
       true, false},
  };
  if (id > kMaxPropertyId) return kUnknown;
  return kTable[id];
}

struct PropertyValue {
  uint8_t id = 0;
  uint32_t number = 0;      // byte and integer types
  absl::string_view text;   // strings, binary data, a pair's name
  absl::string_view text2;  // a pair's value
};

// Reads a Property Length and the properties after it, checks each against
// the table for `context` (a kXxxBit or kWillContext), and hands each to
// `assign`, which stores it.
template <typename Assign>
absl::Status ReadProperties(Reader& r, uint16_t context, const char* where,
                            const Assign& assign) {
  uint32_t length = 0;
  RETURN_IF_ERROR(r.Vbi("Property Length", &length));
  if (length > r.remaining()) {
    return Malformed(absl::StrCat("Property Length ", length, " of ", where,
                                  " is longer than the ", r.remaining(),
                                  " bytes left in ", r.packet()));
  }
  Reader props(absl::string_view(), r.packet());
  RETURN_IF_ERROR(r.Take("properties", length, &props));
  uint64_t seen = 0;
  while (!props.empty()) {
    uint32_t wide_id = 0;
    RETURN_IF_ERROR(props.Vbi("Property Identifier", &wide_id));
    const PropertyInfo& info =
        InfoFor(wide_id > kMaxPropertyId ? 0 : static_cast<uint8_t>(wide_id));
    if (info.name == nullptr) {
      return Malformed(absl::StrFormat(
          "unknown property identifier 0x%02X in %s", wide_id, where));
    }
    if ((info.allowed & context) == 0) {
      return Malformed(
          absl::StrCat("property ", info.name, " is not allowed in ", where));
    }
    const uint64_t bit = uint64_t{1} << wide_id;
    if ((seen & bit) != 0 && (info.repeatable & context) == 0) {
      return ProtocolError(
          absl::StrCat("property ", info.name, " appears twice in ", where));
    }
    seen |= bit;

    PropertyValue value;
    value.id = static_cast<uint8_t>(wide_id);
    switch (info.type) {
      case PropertyType::kByte: {
        uint8_t v = 0;
        RETURN_IF_ERROR(props.Byte(info.name, &v));
        value.number = v;
        break;
      }
      case PropertyType::kU16: {
        uint16_t v = 0;
        RETURN_IF_ERROR(props.U16(info.name, &v));
        value.number = v;
        break;
      }
      case PropertyType::kU32:
        RETURN_IF_ERROR(props.U32(info.name, &value.number));
        break;
      case PropertyType::kVbi:
        RETURN_IF_ERROR(props.Vbi(info.name, &value.number));
        break;
      case PropertyType::kUtf8:
        RETURN_IF_ERROR(props.Utf8(info.name, &value.text));
        break;
      case PropertyType::kBinary:
        RETURN_IF_ERROR(props.Binary(info.name, &value.text));
        break;
      case PropertyType::kUtf8Pair:
        RETURN_IF_ERROR(props.Utf8(info.name, &value.text));
        RETURN_IF_ERROR(props.Utf8(info.name, &value.text2));
        break;
    }
    if (info.boolean && value.number > 1) {
      return ProtocolError(absl::StrCat("property ", info.name, " in ", where,
                                        " is ", value.number, ", not 0 or 1"));
    }
    if (info.nonzero && value.number == 0) {
      return ProtocolError(
          absl::StrCat("property ", info.name, " in ", where, " is 0"));
    }
    assign(value);
  }
  return absl::OkStatus();
}

std::string Str(absl::string_view text) { return std::string(text); }
MqttUserProperty User(const PropertyValue& v) {
  return MqttUserProperty{Str(v.text), Str(v.text2)};
}

absl::Status DecodeConnect(Reader& r, MqttConnect* c) {
  namespace id = mqtt_property;
  absl::string_view protocol_name;
  RETURN_IF_ERROR(r.Utf8("Protocol Name", &protocol_name));
  if (protocol_name != "MQTT") {
    return ProtocolError("CONNECT Protocol Name is not \"MQTT\"");
  }
  uint8_t version = 0;
  RETURN_IF_ERROR(r.Byte("Protocol Version", &version));
  if (version != 5) {
    return ProtocolError(
        absl::StrCat("CONNECT Protocol Version ", version, " is not 5"));
  }
  uint8_t flags = 0;
  RETURN_IF_ERROR(r.Byte("Connect Flags", &flags));
  if ((flags & 0x01) != 0) {
    return Malformed("CONNECT reserved flag bit 0 is set");
  }
  const bool will_flag = (flags & 0x04) != 0;
  const uint8_t will_qos = (flags >> 3) & 0x03;
  const bool will_retain = (flags & 0x20) != 0;
  RETURN_IF_ERROR(CheckQos(will_qos, "CONNECT Will"));
  if (!will_flag && (will_qos != 0 || will_retain)) {
    return Malformed("CONNECT sets Will QoS or Will Retain without a Will");
  }
  c->clean_start = (flags & 0x02) != 0;
  RETURN_IF_ERROR(r.U16("Keep Alive", &c->keep_alive_seconds));
  MqttConnectProperties& p = c->properties;
  RETURN_IF_ERROR(
      ReadProperties(r, kConnectBit, "CONNECT", [&p](const PropertyValue& v) {
        switch (v.id) {
          case id::kSessionExpiryInterval:
            p.session_expiry_interval_seconds = v.number;
            break;
          case id::kReceiveMaximum:
            p.receive_maximum = static_cast<uint16_t>(v.number);
            break;
          case id::kMaximumPacketSize:
            p.maximum_packet_size = v.number;
            break;
          case id::kTopicAliasMaximum:
            p.topic_alias_maximum = static_cast<uint16_t>(v.number);
            break;
          case id::kRequestResponseInformation:
            p.request_response_information = static_cast<uint8_t>(v.number);
            break;
          case id::kRequestProblemInformation:
            p.request_problem_information = static_cast<uint8_t>(v.number);
            break;
          case id::kAuthenticationMethod:
            p.authentication_method = Str(v.text);
            break;
          case id::kAuthenticationData:
            p.authentication_data = Str(v.text);
            break;
          case id::kUserProperty:
            p.user_properties.push_back(User(v));
            break;
        }
      }));
  absl::string_view text;
  RETURN_IF_ERROR(r.Utf8("Client Identifier", &text));
  c->client_id = Str(text);
  if (will_flag) {
    MqttWill& will = c->will.emplace();
    will.qos = will_qos;
    will.retain = will_retain;
    MqttWillProperties& wp = will.properties;
    RETURN_IF_ERROR(ReadProperties(
        r, kWillContext, "CONNECT Will Properties",
        [&wp](const PropertyValue& v) {
          switch (v.id) {
            case id::kWillDelayInterval:
              wp.will_delay_interval_seconds = v.number;
              break;
            case id::kPayloadFormatIndicator:
              wp.payload_format_indicator = static_cast<uint8_t>(v.number);
              break;
            case id::kMessageExpiryInterval:
              wp.message_expiry_interval_seconds = v.number;
              break;
            case id::kContentType:
              wp.content_type = Str(v.text);
              break;
            case id::kResponseTopic:
              wp.response_topic = Str(v.text);
              break;
            case id::kCorrelationData:
              wp.correlation_data = Str(v.text);
              break;
            case id::kUserProperty:
              wp.user_properties.push_back(User(v));
              break;
          }
        }));
    RETURN_IF_ERROR(r.Utf8("Will Topic", &text));
    will.topic = Str(text);
    RETURN_IF_ERROR(r.Binary("Will Payload", &text));
    will.payload = Str(text);
  }
  if ((flags & 0x80) != 0) {
    RETURN_IF_ERROR(r.Utf8("User Name", &text));
    c->username = Str(text);
  }
  if ((flags & 0x40) != 0) {
    RETURN_IF_ERROR(r.Binary("Password", &text));
    c->password = Str(text);
  }
  return r.ExpectEnd();
}

absl::Status DecodeConnack(Reader& r, MqttConnack* c) {
  namespace id = mqtt_property;
  uint8_t flags = 0;
  RETURN_IF_ERROR(r.Byte("Connect Acknowledge Flags", &flags));
  if ((flags & 0xFE) != 0) {
    return Malformed("CONNACK reserved acknowledge flag bits are set");
  }
  c->session_present = (flags & 0x01) != 0;
  RETURN_IF_ERROR(r.Byte("Connect Reason Code", &c->reason_code));
  // An MQTT 3.1.1 broker refusing version 5 answers with a 2-byte CONNACK;
  // accept it so the caller sees the refusal's code, not a parse error.
  if (r.empty()) return absl::OkStatus();
  MqttConnackProperties& p = c->properties;
  RETURN_IF_ERROR(
      ReadProperties(r, kConnackBit, "CONNACK", [&p](const PropertyValue& v) {
        const auto byte = static_cast<uint8_t>(v.number);
        const auto u16 = static_cast<uint16_t>(v.number);
        switch (v.id) {
          case id::kSessionExpiryInterval:
            p.session_expiry_interval_seconds = v.number;
            break;
          case id::kReceiveMaximum:
            p.receive_maximum = u16;
            break;
          case id::kMaximumQos:
            p.maximum_qos = byte;
            break;
          case id::kRetainAvailable:
            p.retain_available = byte;
            break;
          case id::kMaximumPacketSize:
            p.maximum_packet_size = v.number;
            break;
          case id::kAssignedClientIdentifier:
            p.assigned_client_identifier = Str(v.text);
            break;
          case id::kTopicAliasMaximum:
            p.topic_alias_maximum = u16;
            break;
          case id::kReasonString:
            p.reason_string = Str(v.text);
            break;
          case id::kWildcardSubscriptionAvailable:
            p.wildcard_subscription_available = byte;
            break;
          case id::kSubscriptionIdentifierAvailable:
            p.subscription_identifiers_available = byte;
            break;
          case id::kSharedSubscriptionAvailable:
            p.shared_subscription_available = byte;
            break;
          case id::kServerKeepAlive:
            p.server_keep_alive_seconds = u16;
            break;
          case id::kResponseInformation:
            p.response_information = Str(v.text);
            break;
          case id::kServerReference:
            p.server_reference = Str(v.text);
            break;
          case id::kAuthenticationMethod:
            p.authentication_method = Str(v.text);
            break;
          case id::kAuthenticationData:
            p.authentication_data = Str(v.text);
            break;
          case id::kUserProperty:
            p.user_properties.push_back(User(v));
            break;
        }
      }));
  return r.ExpectEnd();
}

absl::Status DecodePublish(uint8_t flags, Reader& r, MqttPublish* p) {
  namespace id = mqtt_property;
  p->dup = (flags & 0x08) != 0;
  p->qos = (flags >> 1) & 0x03;
  p->retain = (flags & 0x01) != 0;
  absl::string_view topic;
  RETURN_IF_ERROR(r.Utf8("Topic Name", &topic));
  if (topic.find_first_of("+#") != absl::string_view::npos) {
    return ProtocolError("PUBLISH Topic Name contains a wildcard");
  }
  p->topic = Str(topic);
  if (p->qos > 0) {
    RETURN_IF_ERROR(r.U16("Packet Identifier", &p->packet_id));
    if (p->packet_id == 0) {
      return ProtocolError("PUBLISH with QoS > 0 has packet id 0");
    }
  }
  MqttPublishProperties& props = p->properties;
  absl::optional<uint16_t>& alias = p->topic_alias;
  RETURN_IF_ERROR(
      ReadProperties(r, kPublishBit, "PUBLISH", [&](const PropertyValue& v) {
        switch (v.id) {
          case id::kTopicAlias:
            alias = static_cast<uint16_t>(v.number);
            break;
          case id::kPayloadFormatIndicator:
            props.payload_format_indicator = static_cast<uint8_t>(v.number);
            break;
          case id::kMessageExpiryInterval:
            props.message_expiry_interval_seconds = v.number;
            break;
          case id::kResponseTopic:
            props.response_topic = Str(v.text);
            break;
          case id::kCorrelationData:
            props.correlation_data = Str(v.text);
            break;
          case id::kSubscriptionIdentifier:
            props.subscription_identifiers.push_back(v.number);
            break;
          case id::kContentType:
            props.content_type = Str(v.text);
            break;
          case id::kUserProperty:
            props.user_properties.push_back(User(v));
            break;
        }
      }));
  if (p->topic.empty() && !p->topic_alias) {
    return ProtocolError("PUBLISH has neither a Topic Name nor a Topic Alias");
  }
  p->payload = Str(r.Rest());
  return absl::OkStatus();
}

// PUBACK and SUBACK share their Reason String / User Property set.
template <typename Packet>
absl::Status ReadReasonProperties(Reader& r, uint16_t context,
                                  const char* where, Packet* packet) {
  return ReadProperties(r, context, where, [packet](const PropertyValue& v) {
    if (v.id == mqtt_property::kReasonString) {
      packet->reason_string = Str(v.text);
    } else if (v.id == mqtt_property::kUserProperty) {
      packet->user_properties.push_back(User(v));
    }
  });
}

absl::Status ReadPacketId(Reader& r, uint16_t* packet_id) {
  RETURN_IF_ERROR(r.U16("Packet Identifier", packet_id));
  if (*packet_id == 0) {
    return ProtocolError(absl::StrCat(r.packet(), " has packet id 0"));
  }
  return absl::OkStatus();
}

absl::Status DecodePuback(Reader& r, MqttPuback* p) {
  RETURN_IF_ERROR(ReadPacketId(r, &p->packet_id));
  if (r.empty()) return absl::OkStatus();  // reason 0, no properties
  RETURN_IF_ERROR(r.Byte("Reason Code", &p->reason_code));
  if (r.empty()) return absl::OkStatus();  // no properties
  RETURN_IF_ERROR(
      ReadReasonProperties(r, Bit(MqttPacketType::kPuback), "PUBACK", p));
  return r.ExpectEnd();
}

absl::Status DecodeSubscribe(Reader& r, MqttSubscribe* s) {
  RETURN_IF_ERROR(ReadPacketId(r, &s->packet_id));
  RETURN_IF_ERROR(ReadProperties(
      r, kSubscribeBit, "SUBSCRIBE", [s](const PropertyValue& v) {
        if (v.id == mqtt_property::kSubscriptionIdentifier) {
          s->subscription_identifier = v.number;
        } else if (v.id == mqtt_property::kUserProperty) {
          s->user_properties.push_back(User(v));
        }
      }));
  if (r.empty()) return ProtocolError("SUBSCRIBE has no topic filter");
  while (!r.empty()) {
    MqttSubscription& sub = s->subscriptions.emplace_back();
    absl::string_view filter;
    RETURN_IF_ERROR(r.Utf8("Topic Filter", &filter));
    if (filter.empty()) return ProtocolError("SUBSCRIBE Topic Filter is empty");
    sub.topic_filter = Str(filter);
    uint8_t options = 0;
    RETURN_IF_ERROR(r.Byte("Subscription Options", &options));
    if ((options & 0xC0) != 0) {
      return Malformed("SUBSCRIBE reserved Subscription Options bits are set");
    }
    sub.max_qos = options & 0x03;
    RETURN_IF_ERROR(CheckQos(sub.max_qos, "SUBSCRIBE Maximum"));
    sub.no_local = (options & 0x04) != 0;
    sub.retain_as_published = (options & 0x08) != 0;
    sub.retain_handling = (options >> 4) & 0x03;
    if (sub.retain_handling == 3) {
      return ProtocolError("SUBSCRIBE Retain Handling is 3");
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeSuback(Reader& r, MqttSuback* s) {
  RETURN_IF_ERROR(ReadPacketId(r, &s->packet_id));
  RETURN_IF_ERROR(
      ReadReasonProperties(r, Bit(MqttPacketType::kSuback), "SUBACK", s));
  if (r.empty()) return ProtocolError("SUBACK has no reason code");
  absl::string_view codes = r.Rest();
  s->reason_codes.assign(codes.begin(), codes.end());
  return absl::OkStatus();
}

absl::Status DecodeDisconnect(Reader& r, MqttDisconnect* d) {
  namespace id = mqtt_property;
  if (r.empty()) return absl::OkStatus();  // Normal disconnection
  RETURN_IF_ERROR(r.Byte("Reason Code", &d->reason_code));
  if (r.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(ReadProperties(
      r, kDisconnectBit, "DISCONNECT", [d](const PropertyValue& v) {
        switch (v.id) {
          case id::kSessionExpiryInterval:
            d->session_expiry_interval_seconds = v.number;
            break;
          case id::kReasonString:
            d->reason_string = Str(v.text);
            break;
          case id::kServerReference:
            d->server_reference = Str(v.text);
            break;
          case id::kUserProperty:
            d->user_properties.push_back(User(v));
            break;
        }
      }));
  return r.ExpectEnd();
}

// Checks the fixed header's type and flags (MQTT 5.0 section 2.1.3).
absl::Status CheckFixedHeader(uint8_t first_byte) {
  const auto type = static_cast<MqttPacketType>(first_byte >> 4);
  const uint8_t flags = first_byte & 0x0F;
  switch (type) {
    case MqttPacketType::kPublish:
      if (((flags >> 1) & 0x03) == 3) {
        return Malformed("PUBLISH QoS is 3");
      }
      return absl::OkStatus();
    case MqttPacketType::kSubscribe:
      if (flags != 0x02) {
        return Malformed(absl::StrFormat(
            "SUBSCRIBE fixed header flags are 0x%X, not 0x2", flags));
      }
      return absl::OkStatus();
    case MqttPacketType::kConnect:
    case MqttPacketType::kConnack:
    case MqttPacketType::kPuback:
    case MqttPacketType::kSuback:
    case MqttPacketType::kPingreq:
    case MqttPacketType::kPingresp:
    case MqttPacketType::kDisconnect:
      if (flags != 0) {
        return Malformed(
            absl::StrFormat("%s fixed header flags are 0x%X, not 0",
                            MqttPacketTypeName(type), flags));
      }
      return absl::OkStatus();
    case MqttPacketType::kPubrec:
    case MqttPacketType::kPubrel:
    case MqttPacketType::kPubcomp:
    case MqttPacketType::kUnsubscribe:
    case MqttPacketType::kUnsuback:
    case MqttPacketType::kAuth:
      return ProtocolError(
          absl::StrCat(MqttPacketTypeName(type), " packets are not supported"));
  }
  return Malformed("packet type 0 is reserved");
}

// Decodes one packet whose fixed header passed CheckFixedHeader.
absl::StatusOr<MqttPacket> DecodeBody(uint8_t first_byte,
                                      absl::string_view body) {
  const auto type = static_cast<MqttPacketType>(first_byte >> 4);
  Reader r(body, MqttPacketTypeName(type));
  switch (type) {
    case MqttPacketType::kConnect: {
      MqttConnect c;
      RETURN_IF_ERROR(DecodeConnect(r, &c));
      return MqttPacket(std::move(c));
    }
    case MqttPacketType::kConnack: {
      MqttConnack c;
      RETURN_IF_ERROR(DecodeConnack(r, &c));
      return MqttPacket(std::move(c));
    }
    case MqttPacketType::kPublish: {
      MqttPublish p;
      RETURN_IF_ERROR(DecodePublish(first_byte & 0x0F, r, &p));
      if (p.qos == 0 && p.dup) {
        return ProtocolError("PUBLISH with QoS 0 has DUP set");
      }
      return MqttPacket(std::move(p));
    }
    case MqttPacketType::kPuback: {
      MqttPuback p;
      RETURN_IF_ERROR(DecodePuback(r, &p));
      return MqttPacket(std::move(p));
    }
    case MqttPacketType::kSubscribe: {
      MqttSubscribe s;
      RETURN_IF_ERROR(DecodeSubscribe(r, &s));
      return MqttPacket(std::move(s));
    }
    case MqttPacketType::kSuback: {
      MqttSuback s;
      RETURN_IF_ERROR(DecodeSuback(r, &s));
      return MqttPacket(std::move(s));
    }
    case MqttPacketType::kPingreq:
      RETURN_IF_ERROR(r.ExpectEnd());
      return MqttPacket(MqttPingreq{});
    case MqttPacketType::kPingresp:
      RETURN_IF_ERROR(r.ExpectEnd());
      return MqttPacket(MqttPingresp{});
    case MqttPacketType::kDisconnect: {
      MqttDisconnect d;
      RETURN_IF_ERROR(DecodeDisconnect(r, &d));
      return MqttPacket(std::move(d));
    }
    default:
      break;
  }
  return CheckFixedHeader(first_byte);  // unsupported or reserved
}

}  // namespace

// --- Encoders ---------------------------------------------------------------

absl::Status EncodeConnect(const MqttConnect& c, std::string* out) {
  if (c.will) RETURN_IF_ERROR(CheckQos(c.will->qos, "CONNECT Will"));
  const uint32_t properties_length =
      Measure([&](auto& s) { WriteConnectProperties(c.properties, s); });
  const uint32_t will_properties_length = c.will ? Measure([&](auto& s) {
    WriteWillProperties(c.will->properties, s);
  })
                                                 : 0;
  uint8_t flags = c.clean_start ? 0x02 : 0;
  if (c.will) {
    flags |= 0x04 | static_cast<uint8_t>(c.will->qos << 3) |
             (c.will->retain ? 0x20 : 0);
  }
  if (c.password) flags |= 0x40;
  if (c.username) flags |= 0x80;
  return AppendPacket(
      FirstByte(MqttPacketType::kConnect, 0), "CONNECT",
      [&](auto& s) {
        s.Field("MQTT");
        s.Byte(5);
        s.Byte(flags);
        s.U16(c.keep_alive_seconds);
        s.Vbi(properties_length);
        WriteConnectProperties(c.properties, s);
        s.Field(c.client_id);
        if (c.will) {
          s.Vbi(will_properties_length);
          WriteWillProperties(c.will->properties, s);
          s.Field(c.will->topic);
          s.Field(c.will->payload);
        }
        if (c.username) s.Field(*c.username);
        if (c.password) s.Field(*c.password);
      },
      out);
}

absl::Status EncodeConnack(const MqttConnack& c, std::string* out) {
  const uint32_t properties_length =
      Measure([&](auto& s) { WriteConnackProperties(c.properties, s); });
  return AppendPacket(
      FirstByte(MqttPacketType::kConnack, 0), "CONNACK",
      [&](auto& s) {
        s.Byte(c.session_present ? 1 : 0);
        s.Byte(c.reason_code);
        s.Vbi(properties_length);
        WriteConnackProperties(c.properties, s);
      },
      out);
}

absl::Status EncodePublish(const MqttPublishView& p, std::string* out) {
  PublishLayout layout;
  RETURN_IF_ERROR(LayOutPublish(p, &layout));
  out->reserve(out->size() + layout.total_size);
  // Fixed header and the topic's length prefix.
  char head[1 + 4 + 2];
  size_t n = 0;
  head[n++] = static_cast<char>(PublishFirstByte(p));
  n += PutVbi(layout.remaining_length, head + n);
  head[n++] = static_cast<char>(p.topic.size() >> 8);
  head[n++] = static_cast<char>(p.topic.size());
  out->append(head, n);
  out->append(p.topic.data(), p.topic.size());
  // Packet id, Property Length and, in the common case, the only property.
  char middle[2 + 4 + 3];
  n = 0;
  if (p.qos > 0) {
    middle[n++] = static_cast<char>(p.packet_id >> 8);
    middle[n++] = static_cast<char>(p.packet_id);
  }
  n += PutVbi(layout.properties_length, middle + n);
  if (p.properties == nullptr && p.topic_alias) {
    middle[n++] = static_cast<char>(mqtt_property::kTopicAlias);
    middle[n++] = static_cast<char>(*p.topic_alias >> 8);
    middle[n++] = static_cast<char>(*p.topic_alias);
  }
  out->append(middle, n);
  if (p.properties != nullptr) {
    Appender appender(out);
    WritePublishProperties(p.topic_alias, p.properties, appender);
  }
  out->append(p.payload.data(), p.payload.size());
  return absl::OkStatus();
}

absl::Status EncodePublish(const MqttPublish& publish, std::string* out) {
  return EncodePublish(ViewOf(publish), out);
}

absl::StatusOr<size_t> EncodedPublishSize(const MqttPublishView& p) {
  PublishLayout layout;
  RETURN_IF_ERROR(LayOutPublish(p, &layout));
  return layout.total_size;
}

absl::Status EncodePuback(const MqttPuback& p, std::string* out) {
  if (p.packet_id == 0)
    return ProtocolError("PUBACK needs a packet id other than 0");
  const bool short_form = p.reason_code == mqtt_reason::kSuccess &&
                          !p.reason_string && p.user_properties.empty();
  const uint32_t properties_length = Measure([&](auto& s) {
    WriteReasonProperties(p.reason_string, p.user_properties, s);
  });
  return AppendPacket(
      FirstByte(MqttPacketType::kPuback, 0), "PUBACK",
      [&](auto& s) {
        s.U16(p.packet_id);
        if (short_form) return;
        s.Byte(p.reason_code);
        s.Vbi(properties_length);
        WriteReasonProperties(p.reason_string, p.user_properties, s);
      },
      out);
}

absl::Status EncodeSubscribe(const MqttSubscribe& sub, std::string* out) {
  if (sub.packet_id == 0) {
    return ProtocolError("SUBSCRIBE needs a packet id other than 0");
  }
  if (sub.subscriptions.empty()) {
    return ProtocolError("SUBSCRIBE needs at least one topic filter");
  }
  if (sub.subscription_identifier && (*sub.subscription_identifier == 0 ||
                                      *sub.subscription_identifier > kMaxVbi)) {
    return ProtocolError(absl::StrCat("SUBSCRIBE Subscription Identifier ",
                                      *sub.subscription_identifier,
                                      " is outside 1..", kMaxVbi));
  }
  for (const MqttSubscription& s : sub.subscriptions) {
    RETURN_IF_ERROR(CheckQos(s.max_qos, "SUBSCRIBE Maximum"));
    if (s.retain_handling > 2) {
      return ProtocolError("SUBSCRIBE Retain Handling must be 0, 1 or 2");
    }
  }
  auto write_properties = [&](auto& s) {
    if (sub.subscription_identifier) {
      PropVbi(s, mqtt_property::kSubscriptionIdentifier,
              *sub.subscription_identifier);
    }
    PropUsers(s, sub.user_properties);
  };
  const uint32_t properties_length = Measure(write_properties);
  return AppendPacket(
      FirstByte(MqttPacketType::kSubscribe, 0x02), "SUBSCRIBE",
      [&](auto& s) {
        s.U16(sub.packet_id);
        s.Vbi(properties_length);
        write_properties(s);
        for (const MqttSubscription& item : sub.subscriptions) {
          s.Field(item.topic_filter);
          s.Byte(static_cast<uint8_t>(item.max_qos |
                                      (item.no_local ? 0x04 : 0) |
                                      (item.retain_as_published ? 0x08 : 0) |
                                      (item.retain_handling << 4)));
        }
      },
      out);
}

absl::Status EncodeSuback(const MqttSuback& s, std::string* out) {
  if (s.packet_id == 0)
    return ProtocolError("SUBACK needs a packet id other than 0");
  if (s.reason_codes.empty()) {
    return ProtocolError("SUBACK needs at least one reason code");
  }
  const uint32_t properties_length = Measure([&](auto& sink) {
    WriteReasonProperties(s.reason_string, s.user_properties, sink);
  });
  return AppendPacket(
      FirstByte(MqttPacketType::kSuback, 0), "SUBACK",
      [&](auto& sink) {
        sink.U16(s.packet_id);
        sink.Vbi(properties_length);
        WriteReasonProperties(s.reason_string, s.user_properties, sink);
        sink.Raw(absl::string_view(
            reinterpret_cast<const char*>(s.reason_codes.data()),
            s.reason_codes.size()));
      },
      out);
}

void EncodePingreq(std::string* out) { out->append("\xC0\x00", 2); }

void EncodePingresp(std::string* out) { out->append("\xD0\x00", 2); }

absl::Status EncodeDisconnect(const MqttDisconnect& d, std::string* out) {
  const bool short_form = d.reason_code == mqtt_reason::kSuccess &&
                          !d.session_expiry_interval_seconds &&
                          !d.reason_string && !d.server_reference &&
                          d.user_properties.empty();
  const uint32_t properties_length =
      Measure([&](auto& s) { WriteDisconnectProperties(d, s); });
  return AppendPacket(
      FirstByte(MqttPacketType::kDisconnect, 0), "DISCONNECT",
      [&](auto& s) {
        if (short_form) return;
        s.Byte(d.reason_code);
        s.Vbi(properties_length);
        WriteDisconnectProperties(d, s);
      },
      out);
}

namespace {
struct EncodeVisitor {
  std::string* out;
  absl::Status operator()(const MqttConnect& p) const {
    return EncodeConnect(p, out);
  }
  absl::Status operator()(const MqttConnack& p) const {
    return EncodeConnack(p, out);
  }
  absl::Status operator()(const MqttPublish& p) const {
    return EncodePublish(p, out);
  }
  absl::Status operator()(const MqttPuback& p) const {
    return EncodePuback(p, out);
  }
  absl::Status operator()(const MqttSubscribe& p) const {
    return EncodeSubscribe(p, out);
  }
  absl::Status operator()(const MqttSuback& p) const {
    return EncodeSuback(p, out);
  }
  absl::Status operator()(const MqttPingreq&) const {
    EncodePingreq(out);
    return absl::OkStatus();
  }
  absl::Status operator()(const MqttPingresp&) const {
    EncodePingresp(out);
    return absl::OkStatus();
  }
  absl::Status operator()(const MqttDisconnect& p) const {
    return EncodeDisconnect(p, out);
  }
};
}  // namespace

absl::Status EncodePacket(const MqttPacket& packet, std::string* out) {
  return absl::visit(EncodeVisitor{out}, packet);
}

// --- MqttDecoder ------------------------------------------------------------

MqttDecoder::MqttDecoder(uint32_t max_packet_size)
    : max_packet_size_(max_packet_size == 0 ||
                               max_packet_size > kMqttMaxPacketSize
                           ? kMqttMaxPacketSize
                           : max_packet_size) {}

void MqttDecoder::Feed(absl::string_view bytes) {
  if (!error_.ok()) return;
  buffer_.Append(bytes);
}

absl::StatusOr<absl::optional<MqttPacket>> MqttDecoder::Next() {
  if (!error_.ok()) return error_;
  const absl::string_view pending = buffer_.pending();
  if (pending.empty()) return absl::optional<MqttPacket>();

  const uint8_t first_byte = static_cast<uint8_t>(pending[0]);
  error_ = CheckFixedHeader(first_byte);
  if (!error_.ok()) return error_;

  // Remaining Length: at most 4 bytes, each with 7 bits of value.
  uint32_t remaining = 0;
  size_t length_bytes = 0;
  bool complete = false;
  for (size_t i = 0; i < 4 && 1 + i < pending.size(); ++i) {
    const uint8_t digit = static_cast<uint8_t>(pending[1 + i]);
    remaining |= static_cast<uint32_t>(digit & 0x7F) << (7 * i);
    length_bytes = i + 1;
    if ((digit & 0x80) == 0) {
      complete = true;
      break;
    }
  }
  if (!complete) {
    if (length_bytes == 4) {
      error_ = Malformed(absl::StrCat(
          "Remaining Length of ",
          MqttPacketTypeName(static_cast<MqttPacketType>(first_byte >> 4)),
          " is a Variable Byte Integer longer than 4 bytes"));
      return error_;
    }
    return absl::optional<MqttPacket>();
  }
  const uint64_t total = 1 + length_bytes + uint64_t{remaining};
  if (total > max_packet_size_) {
    error_ = TooLarge(absl::StrCat(
        MqttPacketTypeName(static_cast<MqttPacketType>(first_byte >> 4)),
        " of ", total, " bytes exceeds the maximum packet size of ",
        max_packet_size_, " bytes"));
    return error_;
  }
  if (pending.size() < total) return absl::optional<MqttPacket>();

  absl::StatusOr<MqttPacket> packet =
      DecodeBody(first_byte, pending.substr(1 + length_bytes, remaining));
  if (!packet.ok()) {
    error_ = packet.status();
    return error_;
  }
  buffer_.Consume(static_cast<size_t>(total));
  return absl::optional<MqttPacket>(std::move(packet).value());
}

}  // namespace cloudlink::mqtt
