#include "server/mqtt/mqtt_decoder.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/status_macros.h"
#include "server/mqtt/mqtt_properties.h"
#include "server/mqtt/mqtt_wire.h"

namespace cloudlink::mqtt {

using internal::CheckQos;
using internal::Malformed;
using internal::ProtocolError;
using internal::Reader;
using internal::TooLarge;

namespace {

std::string Str(absl::string_view text) { return std::string(text); }

absl::Status DecodeConnect(Reader& r, MqttConnect* c) {
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
  RETURN_IF_ERROR(internal::ReadConnectProperties(r, &c->properties));
  absl::string_view text;
  RETURN_IF_ERROR(r.Utf8("Client Identifier", &text));
  c->client_id = Str(text);
  if (will_flag) {
    MqttWill& will = c->will.emplace();
    will.qos = will_qos;
    will.retain = will_retain;
    RETURN_IF_ERROR(internal::ReadWillProperties(r, &will.properties));
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
  RETURN_IF_ERROR(internal::ReadConnackProperties(r, &c->properties));
  return r.ExpectEnd();
}

absl::Status DecodePublish(uint8_t flags, Reader& r, MqttPublish* p) {
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
  RETURN_IF_ERROR(
      internal::ReadPublishProperties(r, &p->topic_alias, &p->properties));
  if (p->topic.empty() && !p->topic_alias) {
    return ProtocolError("PUBLISH has neither a Topic Name nor a Topic Alias");
  }
  p->payload = Str(r.Rest());
  return absl::OkStatus();
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
  RETURN_IF_ERROR(internal::ReadReasonProperties(
      r, MqttPacketType::kPuback, &p->reason_string, &p->user_properties));
  return r.ExpectEnd();
}

absl::Status DecodeSubscribe(Reader& r, MqttSubscribe* s) {
  RETURN_IF_ERROR(ReadPacketId(r, &s->packet_id));
  RETURN_IF_ERROR(internal::ReadSubscribeProperties(r, s));
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
  RETURN_IF_ERROR(internal::ReadReasonProperties(
      r, MqttPacketType::kSuback, &s->reason_string, &s->user_properties));
  if (r.empty()) return ProtocolError("SUBACK has no reason code");
  absl::string_view codes = r.Rest();
  s->reason_codes.assign(codes.begin(), codes.end());
  return absl::OkStatus();
}

absl::Status DecodeDisconnect(Reader& r, MqttDisconnect* d) {
  if (r.empty()) return absl::OkStatus();  // Normal disconnection
  RETURN_IF_ERROR(r.Byte("Reason Code", &d->reason_code));
  if (r.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(internal::ReadDisconnectProperties(r, d));
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
