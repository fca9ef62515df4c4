#include "server/mqtt/mqtt_properties.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "server/common/status_macros.h"

namespace cloudlink::mqtt::internal {
namespace {

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

// Stores one property read into the listed field with its identifier; the
// other fields are left alone.
class PropertyAssigner {
 public:
  explicit PropertyAssigner(const PropertyValue& v) : v_(v) {}

  void operator()(uint8_t id, absl::optional<uint8_t>& field) const {
    if (id == v_.id) field = static_cast<uint8_t>(v_.number);
  }
  void operator()(uint8_t id, absl::optional<uint16_t>& field) const {
    if (id == v_.id) field = static_cast<uint16_t>(v_.number);
  }
  void operator()(uint8_t id, absl::optional<uint32_t>& field) const {
    if (id == v_.id) field = v_.number;
  }
  void operator()(uint8_t id, absl::optional<std::string>& field) const {
    if (id == v_.id) field = std::string(v_.text);
  }
  void operator()(uint8_t id, std::vector<uint32_t>& field) const {
    if (id == v_.id) field.push_back(v_.number);
  }
  void operator()(uint8_t id, std::vector<MqttUserProperty>& field) const {
    if (id == v_.id) {
      field.push_back(
          MqttUserProperty{std::string(v_.text), std::string(v_.text2)});
    }
  }

 private:
  const PropertyValue& v_;
};

}  // namespace

absl::Status ReadConnectProperties(Reader& r, MqttConnectProperties* p) {
  return ReadProperties(r, kConnectBit, "CONNECT", [p](const PropertyValue& v) {
    VisitConnectProperties(*p, PropertyAssigner(v));
  });
}

absl::Status ReadWillProperties(Reader& r, MqttWillProperties* p) {
  return ReadProperties(r, kWillContext, "CONNECT Will Properties",
                        [p](const PropertyValue& v) {
                          VisitWillProperties(*p, PropertyAssigner(v));
                        });
}

absl::Status ReadConnackProperties(Reader& r, MqttConnackProperties* p) {
  return ReadProperties(r, kConnackBit, "CONNACK", [p](const PropertyValue& v) {
    VisitConnackProperties(*p, PropertyAssigner(v));
  });
}

absl::Status ReadPublishProperties(Reader& r,
                                   absl::optional<uint16_t>* topic_alias,
                                   MqttPublishProperties* p) {
  return ReadProperties(r, kPublishBit, "PUBLISH",
                        [topic_alias, p](const PropertyValue& v) {
                          const PropertyAssigner assign(v);
                          assign(mqtt_property::kTopicAlias, *topic_alias);
                          VisitPublishProperties(*p, assign);
                        });
}

absl::Status ReadReasonProperties(Reader& r, MqttPacketType type,
                                  absl::optional<std::string>* reason_string,
                                  std::vector<MqttUserProperty>* users) {
  return ReadProperties(r, Bit(type), MqttPacketTypeName(type),
                        [reason_string, users](const PropertyValue& v) {
                          const PropertyAssigner assign(v);
                          assign(mqtt_property::kReasonString, *reason_string);
                          assign(mqtt_property::kUserProperty, *users);
                        });
}

absl::Status ReadSubscribeProperties(Reader& r, MqttSubscribe* s) {
  return ReadProperties(r, kSubscribeBit, "SUBSCRIBE",
                        [s](const PropertyValue& v) {
                          VisitSubscribeProperties(*s, PropertyAssigner(v));
                        });
}

absl::Status ReadDisconnectProperties(Reader& r, MqttDisconnect* d) {
  return ReadProperties(r, kDisconnectBit, "DISCONNECT",
                        [d](const PropertyValue& v) {
                          VisitDisconnectProperties(*d, PropertyAssigner(v));
                        });
}

}  // namespace cloudlink::mqtt::internal
