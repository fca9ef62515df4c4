#include "server/mqtt/mqtt_encoder.h"

#include "absl/strings/str_cat.h"
#include "absl/types/variant.h"
#include "server/common/status_macros.h"
#include "server/mqtt/mqtt_properties.h"
#include "server/mqtt/mqtt_wire.h"

namespace cloudlink::mqtt {

using internal::Appender;
using internal::CheckQos;
using internal::kMaxFieldLength;
using internal::kMaxVbi;
using internal::Malformed;
using internal::ProtocolError;
using internal::PutVbi;
using internal::SizeCounter;
using internal::TooLarge;
using internal::VbiSize;
using internal::WriteConnackProperties;
using internal::WriteConnectProperties;
using internal::WriteDisconnectProperties;
using internal::WritePublishProperties;
using internal::WriteReasonProperties;
using internal::WriteSubscribeProperties;
using internal::WriteWillProperties;

namespace {

// Every packet body is written by one template run twice, first with a
// SizeCounter to learn the Remaining Length (and whether any field is out of
// range), then with an Appender into the reserved output.

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

}  // namespace

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
  const uint32_t properties_length =
      Measure([&](auto& s) { WriteSubscribeProperties(sub, s); });
  return AppendPacket(
      FirstByte(MqttPacketType::kSubscribe, 0x02), "SUBSCRIBE",
      [&](auto& s) {
        s.U16(sub.packet_id);
        s.Vbi(properties_length);
        WriteSubscribeProperties(sub, s);
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

}  // namespace cloudlink::mqtt
