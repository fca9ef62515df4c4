#include "server/mqtt/mqtt_session.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/status_macros.h"
#include "server/mqtt/mqtt_encoder.h"

namespace cloudlink::mqtt {
namespace {

// Packet ids are 1..65535.
constexpr size_t kMaxPacketIds = 65535;

std::string ReasonHex(uint8_t code) { return absl::StrFormat("0x%02X", code); }

SessionEvent MakeEvent(SessionEvent::Type type, uint64_t message_id = 0,
                       uint8_t reason_code = 0, std::string reason = "") {
  SessionEvent event;
  event.type = type;
  event.message_id = message_id;
  event.reason_code = reason_code;
  event.reason = std::move(reason);
  return event;
}

// LOGIN_INVALID naming the first CONNECT field of `config` that MQTT cannot
// carry. Only the field's name goes into the message: the password is a
// secret, and the others come from the cloud.
absl::Status CheckConnectFields(const SessionConfig& config) {
  const struct {
    const char* name;
    const std::string& value;
  } kFields[] = {
      {"client id", config.client_id},       {"username", config.username},
      {"password", config.password},         {"will topic", config.will_topic},
      {"will payload", config.will_payload},
  };
  for (const auto& field : kFields) {
    if (field.value.size() > kMqttMaxFieldLength) {
      return Error(absl::StatusCode::kInvalidArgument, reason::kLoginInvalid,
                   absl::StrCat("the MQTT ", field.name, " is longer than the ",
                                kMqttMaxFieldLength, " bytes MQTT can carry"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

MqttSession::MqttSession(SessionConfig config)
    : config_(std::move(config)), ping_after_idle_(config_.ping_after_idle) {}

absl::Status MqttSession::Begin(absl::Time now, std::string* out) {
  if (begun_) {
    return absl::FailedPreconditionError(
        "MqttSession::Begin called twice: a session serves one connection");
  }
  connected_ = false;
  absl::Status fields = CheckConnectFields(config_);
  if (!fields.ok()) {
    awaiting_connack_ = false;
    decoder_.reset();
    return fields;
  }
  awaiting_connack_ = true;
  ping_sent_ = absl::InfiniteFuture();
  pending_subscribe_id_ = 0;
  decoder_ = std::make_unique<MqttDecoder>(config_.max_packet_size);
  aliases_.clear();
  inbound_aliases_.clear();
  server_receive_maximum_ = 65535;
  server_max_packet_size_ = kMqttMaxPacketSize;
  server_alias_max_ = 0;
  server_max_qos_ = 1;
  ping_after_idle_ = config_.ping_after_idle;
  begun_ = true;

  MqttConnect connect;
  connect.clean_start = true;
  connect.keep_alive_seconds = config_.keepalive_seconds;
  connect.client_id = config_.client_id;
  connect.username = config_.username;
  connect.password = config_.password;
  if (!config_.will_topic.empty()) {
    MqttWill will;
    will.topic = config_.will_topic;
    will.payload = config_.will_payload;
    will.qos = 1;
    connect.will = std::move(will);
  }
  connect.properties.maximum_packet_size = config_.max_packet_size;
  connect.properties.topic_alias_maximum = config_.topic_alias_maximum;
  // CheckConnectFields ruled out the one way this fails.
  RETURN_IF_ERROR(EncodeConnect(connect, out));
  last_send_ = now;
  return absl::OkStatus();
}

size_t MqttSession::send_window() const {
  const size_t free_ids = kMaxPacketIds - (pending_subscribe_id_ != 0 ? 1 : 0);
  return std::min<size_t>(server_receive_maximum_, free_ids);
}

uint16_t MqttSession::NextPacketId() {
  // One lap at most: a full one means every id is taken.
  for (size_t tries = 0; tries < kMaxPacketIds; ++tries) {
    last_packet_id_ = static_cast<uint16_t>(last_packet_id_ + 1);
    if (last_packet_id_ == 0) last_packet_id_ = 1;
    if (in_flight_.count(last_packet_id_) == 0 &&
        last_packet_id_ != pending_subscribe_id_) {
      return last_packet_id_;
    }
  }
  // The encoder refuses packet id 0: the packet fails; nothing spins.
  return 0;
}

void MqttSession::WriteMessage(Message& message, absl::Time now,
                               std::string* out) {
  MqttPublishView view;
  view.qos = std::min(message.qos, server_max_qos_);
  view.payload = message.payload;
  view.topic = message.topic;
  // A new alias is remembered only once a packet carrying it was written:
  // the server learns it from that packet alone.
  bool new_alias = false;
  if (server_alias_max_ > 0) {
    auto it = aliases_.find(message.topic);
    if (it != aliases_.end()) {
      view.topic_alias = it->second;
      view.topic = absl::string_view();
    } else if (aliases_.size() < server_alias_max_) {
      // Topic and alias together set it.
      view.topic_alias = static_cast<uint16_t>(aliases_.size() + 1);
      new_alias = true;
    }
  }
  if (view.qos > 0) view.packet_id = NextPacketId();

  absl::StatusOr<size_t> size = EncodedPublishSize(view);
  if (!size.ok() || *size > server_max_packet_size_) {
    ++counters_.failed;
    events_.push_back(MakeEvent(
        SessionEvent::Type::kPublishFailed, message.id,
        mqtt_reason::kPacketTooLarge,
        ErrorText(reason::kMqttPacketTooLarge,
                  absl::StrCat("the message needs ", size.ok() ? *size : 0,
                               " bytes; the server accepts at most ",
                               server_max_packet_size_))));
    return;
  }
  absl::Status encoded = EncodePublish(view, out);
  if (!encoded.ok()) {
    ++counters_.failed;
    events_.push_back(MakeEvent(SessionEvent::Type::kPublishFailed, message.id,
                                0, std::string(encoded.message())));
    return;
  }
  if (new_alias) aliases_.emplace(message.topic, *view.topic_alias);
  ++counters_.published;
  counters_.bytes += message.payload.size();
  last_send_ = now;
  if (view.qos > 0) in_flight_.emplace(view.packet_id, std::move(message));
}

void MqttSession::Pump(absl::Time now, std::string* out) {
  if (!connected_) return;
  while (!queue_.empty()) {
    Message& next = queue_.front();
    if (next.qos > 0 && server_max_qos_ > 0 &&
        in_flight_.size() >= send_window()) {
      return;  // the window is full; PUBACKs (or the SUBACK) open it again
    }
    Message message = std::move(next);
    queue_.pop_front();
    WriteMessage(message, now, out);
  }
}

uint64_t MqttSession::Publish(std::string topic, std::string payload,
                              uint8_t qos, absl::Time now, std::string* out) {
  Message message;
  message.id = next_message_id_++;
  message.topic = std::move(topic);
  message.payload = std::move(payload);
  message.qos = qos > 0 ? 1 : 0;
  queue_.push_back(std::move(message));
  const uint64_t id = queue_.back().id;
  Pump(now, out);
  return id;
}

void MqttSession::HandleConnack(const MqttConnack& connack, absl::Time now,
                                std::string* out, absl::Status* error) {
  if (!awaiting_connack_) {
    *error = Error(absl::StatusCode::kUnavailable, reason::kMqttProtocolError,
                   "the server sent a second CONNACK");
    return;
  }
  awaiting_connack_ = false;
  if (connack.reason_code != mqtt_reason::kSuccess) {
    const std::string detail =
        absl::StrCat("the broker refused the MQTT connection (reason ",
                     ReasonHex(connack.reason_code),
                     connack.properties.reason_string
                         ? ": " + *connack.properties.reason_string
                         : "",
                     ")");
    const bool auth =
        connack.reason_code == mqtt_reason::kBadUserNameOrPassword ||
        connack.reason_code == mqtt_reason::kNotAuthorized ||
        connack.reason_code == mqtt_reason::kBadAuthenticationMethod;
    *error = Error(absl::StatusCode::kUnavailable,
                   auth ? reason::kMqttAuthFailed : reason::kMqttConnectRefused,
                   detail);
    return;
  }
  const MqttConnackProperties& p = connack.properties;
  if (p.receive_maximum) server_receive_maximum_ = *p.receive_maximum;
  if (p.maximum_packet_size) server_max_packet_size_ = *p.maximum_packet_size;
  if (p.topic_alias_maximum) server_alias_max_ = *p.topic_alias_maximum;
  if (p.maximum_qos) server_max_qos_ = *p.maximum_qos;
  // The server's Keep Alive replaces ours (MQTT 5 section 3.2.2.3.14); it
  // closes after 1.5 times it without a packet, so ping at 3/4 of it.
  if (p.server_keep_alive_seconds && *p.server_keep_alive_seconds > 0) {
    ping_after_idle_ =
        std::min(config_.ping_after_idle,
                 absl::Seconds(*p.server_keep_alive_seconds) * 3 / 4);
  }
  connected_ = true;
  events_.push_back(MakeEvent(SessionEvent::Type::kConnected));

  if (!config_.subscribe_filter.empty()) {
    MqttSubscribe subscribe;
    subscribe.packet_id = NextPacketId();
    MqttSubscription s;
    s.topic_filter = config_.subscribe_filter;
    s.max_qos = 1;
    subscribe.subscriptions.push_back(s);
    if (EncodeSubscribe(subscribe, out).ok()) {
      pending_subscribe_id_ = subscribe.packet_id;  // reserved until SUBACK
      last_send_ = now;
    }
  }
  Pump(now, out);
}

void MqttSession::HandlePublish(MqttPublish& publish, absl::Time now,
                                std::string* out, absl::Status* error) {
  if (publish.topic_alias) {
    if (*publish.topic_alias > config_.topic_alias_maximum) {
      *error = Error(absl::StatusCode::kUnavailable, reason::kMqttProtocolError,
                     "the server used a topic alias above our maximum");
      return;
    }
    if (!publish.topic.empty()) {
      inbound_aliases_[*publish.topic_alias] = publish.topic;
    } else {
      auto it = inbound_aliases_.find(*publish.topic_alias);
      if (it == inbound_aliases_.end()) {
        *error =
            Error(absl::StatusCode::kUnavailable, reason::kMqttProtocolError,
                  "the server used an unknown topic alias");
        return;
      }
      publish.topic = it->second;
    }
  }
  if (publish.qos == 2) {
    *error = Error(absl::StatusCode::kUnavailable, reason::kMqttProtocolError,
                   "the server sent QoS 2 on a QoS 1 subscription");
    return;
  }
  if (publish.qos == 1) {
    MqttPuback ack;
    ack.packet_id = publish.packet_id;
    if (EncodePuback(ack, out).ok()) last_send_ = now;
  }
  SessionEvent event = MakeEvent(SessionEvent::Type::kMessage);
  event.topic = std::move(publish.topic);
  event.payload = std::move(publish.payload);
  events_.push_back(std::move(event));
}

void MqttSession::HandlePuback(const MqttPuback& puback) {
  auto it = in_flight_.find(puback.packet_id);
  if (it == in_flight_.end()) return;  // not ours (or acked already)
  const uint64_t id = it->second.id;
  in_flight_.erase(it);
  if (puback.reason_code >= 0x80) {
    ++counters_.failed;
    events_.push_back(MakeEvent(
        SessionEvent::Type::kPublishFailed, id, puback.reason_code,
        absl::StrCat("the broker refused the message (reason ",
                     ReasonHex(puback.reason_code),
                     puback.reason_string ? ": " + *puback.reason_string : "",
                     ")")));
    return;
  }
  ++counters_.acked;
  events_.push_back(
      MakeEvent(SessionEvent::Type::kAcked, id, puback.reason_code));
}

absl::Status MqttSession::OnBytes(absl::string_view bytes, absl::Time now,
                                  std::string* out) {
  if (decoder_ == nullptr) {
    return absl::FailedPreconditionError("OnBytes before Begin");
  }
  decoder_->Feed(bytes);
  while (true) {
    absl::StatusOr<absl::optional<MqttPacket>> next = decoder_->Next();
    if (!next.ok()) {
      return WithCode(next.status(), absl::StatusCode::kUnavailable);
    }
    if (!next->has_value()) break;
    MqttPacket& packet = **next;
    if (LogEnabled(LogLevel::kDebug)) {
      LogDebug(absl::StrCat("MQTT: received ", DescribePacket(packet)));
    }
    absl::Status error;
    if (awaiting_connack_ && !absl::holds_alternative<MqttConnack>(packet)) {
      return Error(absl::StatusCode::kUnavailable, reason::kMqttProtocolError,
                   "the server sent a packet before CONNACK");
    }
    if (auto* connack = absl::get_if<MqttConnack>(&packet)) {
      HandleConnack(*connack, now, out, &error);
    } else if (auto* publish = absl::get_if<MqttPublish>(&packet)) {
      HandlePublish(*publish, now, out, &error);
    } else if (auto* puback = absl::get_if<MqttPuback>(&packet)) {
      HandlePuback(*puback);
      Pump(now, out);
    } else if (auto* suback = absl::get_if<MqttSuback>(&packet)) {
      if (suback->packet_id == pending_subscribe_id_) {
        pending_subscribe_id_ = 0;
        Pump(now, out);  // its packet id is free for a waiting message
      }
      for (uint8_t code : suback->reason_codes) {
        if (code >= 0x80) {
          events_.push_back(
              MakeEvent(SessionEvent::Type::kSubscribeFailed, 0, code,
                        absl::StrCat("the broker refused the subscription "
                                     "to ",
                                     config_.subscribe_filter, " (reason ",
                                     ReasonHex(code), ")")));
        }
      }
    } else if (absl::holds_alternative<MqttPingresp>(packet)) {
      ping_sent_ = absl::InfiniteFuture();
    } else if (auto* disconnect = absl::get_if<MqttDisconnect>(&packet)) {
      connected_ = false;
      absl::Status closed =
          Error(absl::StatusCode::kUnavailable, reason::kServerDisconnect,
                absl::StrCat("the broker closed the session (reason ",
                             ReasonHex(disconnect->reason_code),
                             disconnect->reason_string
                                 ? ": " + *disconnect->reason_string
                                 : "",
                             ")"));
      closed.SetPayload(
          absl::StrCat(kMetadataPayloadUrlPrefix, kDisconnectReasonCodeKey),
          absl::Cord(ReasonHex(disconnect->reason_code)));
      return closed;
    } else {
      return Error(absl::StatusCode::kUnavailable, reason::kMqttProtocolError,
                   "the server sent a packet a client never receives");
    }
    if (!error.ok()) {
      connected_ = false;
      return error;
    }
  }
  return absl::OkStatus();
}

absl::Time MqttSession::NextTick() const {
  if (awaiting_connack_ && !connected_) return absl::InfiniteFuture();
  if (ping_sent_ != absl::InfiniteFuture()) {
    return ping_sent_ + config_.pingresp_timeout;
  }
  return last_send_ + ping_after_idle_;
}

absl::Status MqttSession::OnTick(absl::Time now, std::string* out) {
  if (!connected_) return absl::OkStatus();
  if (ping_sent_ != absl::InfiniteFuture()) {
    if (now - ping_sent_ >= config_.pingresp_timeout) {
      connected_ = false;
      return Error(
          absl::StatusCode::kUnavailable, reason::kKeepaliveTimeout,
          absl::StrCat("no PINGRESP within ",
                       absl::FormatDuration(config_.pingresp_timeout)));
    }
    return absl::OkStatus();
  }
  if (now - last_send_ >= ping_after_idle_) {
    EncodePingreq(out);
    last_send_ = now;
    ping_sent_ = now;
  }
  return absl::OkStatus();
}

void MqttSession::Disconnect(std::string* out) {
  MqttDisconnect disconnect;
  (void)EncodeDisconnect(disconnect, out);
  connected_ = false;
}

std::vector<SessionEvent> MqttSession::TakeEvents() {
  std::vector<SessionEvent> events;
  events.swap(events_);
  return events;
}

}  // namespace cloudlink::mqtt
