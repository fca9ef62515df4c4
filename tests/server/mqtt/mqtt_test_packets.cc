#include "tests/server/mqtt/mqtt_test_packets.h"

#include <gtest/gtest.h>

#include <utility>

#include "server/common/error.h"
#include "server/mqtt/mqtt_decoder.h"
#include "server/mqtt/mqtt_encoder.h"
#include "tests/testing/byte_strings.h"

namespace cloudlink::mqtt {

std::string Encode(const MqttPacket& packet) {
  std::string out;
  absl::Status status = EncodePacket(packet, &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

absl::StatusOr<MqttPacket> DecodeOne(absl::string_view bytes,
                                     uint32_t max_packet_size) {
  MqttDecoder decoder(max_packet_size);
  decoder.Feed(bytes);
  absl::StatusOr<absl::optional<MqttPacket>> next = decoder.Next();
  if (!next.ok()) return next.status();
  if (!next->has_value()) return absl::UnknownError("incomplete packet");
  EXPECT_EQ(decoder.buffered_bytes(), 0u) << "bytes left after the packet";
  return std::move(**next);
}

std::string DecodeReason(absl::string_view bytes, uint32_t max_packet_size) {
  absl::StatusOr<MqttPacket> packet = DecodeOne(bytes, max_packet_size);
  if (packet.ok()) return "";
  EXPECT_EQ(packet.status().code(), absl::StatusCode::kInvalidArgument)
      << packet.status();
  return ReasonOf(packet.status());
}

std::vector<MqttUserProperty> Users() {
  return {{"a", "1"}, {"a", "2"}, {"ключ", "значение"}};
}

MqttConnect FullConnect() {
  MqttConnect c;
  c.clean_start = true;
  c.keep_alive_seconds = 60;
  c.client_id = "node-1";
  c.username = "user";
  c.password = std::string("p\0w\xff", 4);
  MqttWill& will = c.will.emplace();
  will.topic = "/agent/x/outbound/v1/agent-connection";
  will.payload = std::string("\x08\x00\x01", 3);
  will.qos = 1;
  will.retain = true;
  will.properties.will_delay_interval_seconds = 5;
  will.properties.payload_format_indicator = 0;
  will.properties.message_expiry_interval_seconds = 3600;
  will.properties.content_type = "application/x-protobuf";
  will.properties.response_topic = "resp";
  will.properties.correlation_data = std::string("\x00\x01", 2);
  will.properties.user_properties = Users();
  c.properties.session_expiry_interval_seconds = 0;
  c.properties.receive_maximum = 100;
  c.properties.maximum_packet_size = 1 << 20;
  c.properties.topic_alias_maximum = 65535;
  c.properties.request_response_information = 1;
  c.properties.request_problem_information = 0;
  c.properties.authentication_method = "SCRAM";
  c.properties.authentication_data = std::string("\x00\xfe", 2);
  c.properties.user_properties = Users();
  return c;
}

MqttConnack FullConnack() {
  MqttConnack c;
  c.session_present = true;
  c.reason_code = mqtt_reason::kSuccess;
  MqttConnackProperties& p = c.properties;
  p.session_expiry_interval_seconds = 10;
  p.receive_maximum = 20;
  p.maximum_qos = 1;
  p.retain_available = 0;
  p.maximum_packet_size = 65536;
  p.assigned_client_identifier = "auto-123";
  p.topic_alias_maximum = 10;
  p.reason_string = "welcome";
  p.wildcard_subscription_available = 1;
  p.subscription_identifiers_available = 0;
  p.shared_subscription_available = 1;
  p.server_keep_alive_seconds = 30;
  p.response_information = "info";
  p.server_reference = "other:1883";
  p.authentication_method = "SCRAM";
  p.authentication_data = "data";
  p.user_properties = Users();
  return c;
}

MqttPublish FullPublish() {
  MqttPublish p;
  p.dup = true;
  p.qos = 1;
  p.retain = true;
  p.topic = "/agent/x/inbound/cmd";
  p.packet_id = 65535;
  p.topic_alias = 7;
  p.properties.payload_format_indicator = 1;
  p.properties.message_expiry_interval_seconds = 0xFFFFFFFF;
  p.properties.response_topic = "r/t";
  p.properties.correlation_data = std::string(3, '\0');
  p.properties.subscription_identifiers = {1, 268435455};
  p.properties.content_type = "text/plain";
  p.properties.user_properties = Users();
  p.payload = std::string(300, 'x');
  return p;
}

MqttPuback FullPuback() {
  MqttPuback p;
  p.packet_id = 513;
  p.reason_code = mqtt_reason::kNoMatchingSubscribers;
  p.reason_string = "nobody";
  p.user_properties = Users();
  return p;
}

MqttSubscribe FullSubscribe() {
  MqttSubscribe s;
  s.packet_id = 2;
  s.subscription_identifier = 16384;
  s.user_properties = Users();
  s.subscriptions.push_back({"a/+/c", 1, true, true, 2});
  s.subscriptions.push_back({"#", 0, false, false, 0});
  s.subscriptions.push_back({"x/y", 2, false, true, 1});
  return s;
}

MqttSuback FullSuback() {
  MqttSuback s;
  s.packet_id = 2;
  s.reason_string = "partly";
  s.user_properties = Users();
  s.reason_codes = {mqtt_reason::kGrantedQos1, mqtt_reason::kNotAuthorized,
                    mqtt_reason::kGrantedQos2};
  return s;
}

MqttDisconnect FullDisconnect() {
  MqttDisconnect d;
  d.reason_code = mqtt_reason::kUseAnotherServer;
  d.session_expiry_interval_seconds = 0;
  d.reason_string = "moving";
  d.server_reference = "elsewhere:8883";
  d.user_properties = Users();
  return d;
}

std::vector<MqttPacket> AllPackets() {
  std::vector<MqttPacket> packets;
  packets.push_back(FullConnect());
  MqttConnect minimal_connect;
  packets.push_back(minimal_connect);
  packets.push_back(FullConnack());
  packets.push_back(MqttConnack{});
  packets.push_back(FullPublish());
  MqttPublish qos0;
  qos0.topic = "t";
  packets.push_back(qos0);
  MqttPublish alias_only;
  alias_only.topic_alias = 1;
  alias_only.payload = "p";
  packets.push_back(alias_only);
  packets.push_back(FullPuback());
  MqttPuback short_puback;
  short_puback.packet_id = 1;
  packets.push_back(short_puback);
  MqttPuback reason_only_puback;
  reason_only_puback.packet_id = 1;
  reason_only_puback.reason_code = mqtt_reason::kQuotaExceeded;
  packets.push_back(reason_only_puback);
  packets.push_back(FullSubscribe());
  packets.push_back(FullSuback());
  packets.push_back(MqttPingreq{});
  packets.push_back(MqttPingresp{});
  packets.push_back(FullDisconnect());
  packets.push_back(MqttDisconnect{});
  return packets;
}

}  // namespace cloudlink::mqtt
