#include "tests/server/mqtt/mqtt_test_broker.h"

#include <gtest/gtest.h>

#include <utility>

#include "server/mqtt/mqtt_decoder.h"
#include "server/mqtt/mqtt_encoder.h"

namespace cloudlink::mqtt {

SessionConfig TestConfig() {
  SessionConfig config;
  config.client_id = "node-client";
  config.username = "node-user";
  config.password = "s3cret-pass";
  config.will_topic = "/agent/claim-1/outbound/v1/agent-connection";
  config.will_payload = std::string("\x08\x00\x01", 3);
  config.subscribe_filter = "/agent/claim-1/inbound/v1/cmd";
  return config;
}

MqttConnack Connack(uint8_t reason) {
  MqttConnack connack;
  connack.reason_code = reason;
  return connack;
}

MqttPuback Puback(uint16_t packet_id, uint8_t reason) {
  MqttPuback ack;
  ack.packet_id = packet_id;
  ack.reason_code = reason;
  return ack;
}

Broker::Broker(SessionConfig config, size_t chunk)
    : session_(std::move(config)), chunk_(chunk) {}

void Broker::Begin() {
  absl::Status status = session_.Begin(now_, &out_);
  EXPECT_TRUE(status.ok()) << status;
}

std::vector<MqttPacket> Broker::Written() {
  std::vector<MqttPacket> packets;
  MqttDecoder decoder(kMqttMaxPacketSize);
  decoder.Feed(out_);
  out_.clear();
  while (true) {
    absl::StatusOr<absl::optional<MqttPacket>> next = decoder.Next();
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok() || !next->has_value()) break;
    packets.push_back(std::move(**next));
  }
  EXPECT_EQ(decoder.buffered_bytes(), 0u) << "a partial packet was written";
  return packets;
}

std::string Broker::TakeBytes() {
  std::string bytes;
  bytes.swap(out_);
  return bytes;
}

absl::Status Broker::SendBytes(absl::string_view bytes) {
  if (chunk_ == 0) return session_.OnBytes(bytes, now_, &out_);
  for (size_t pos = 0; pos < bytes.size(); pos += chunk_) {
    absl::Status status =
        session_.OnBytes(bytes.substr(pos, chunk_), now_, &out_);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Broker::Send(const MqttPacket& packet) {
  std::string bytes;
  absl::Status encoded = EncodePacket(packet, &bytes);
  EXPECT_TRUE(encoded.ok()) << encoded;
  return SendBytes(bytes);
}

std::vector<MqttPacket> Broker::Connect(MqttConnack connack) {
  Begin();
  std::vector<MqttPacket> connect = Written();
  EXPECT_EQ(connect.size(), 1u);
  absl::Status status = Send(connack);
  EXPECT_TRUE(status.ok()) << status;
  return Written();
}

uint64_t Broker::Publish(std::string topic, std::string payload, uint8_t qos) {
  return session_.Publish(std::move(topic), std::move(payload), qos, now_,
                          &out_);
}

absl::Status Broker::Tick() { return session_.OnTick(now_, &out_); }

void Broker::Disconnect() { session_.Disconnect(&out_); }

std::vector<MqttPublish> Publishes(const std::vector<MqttPacket>& packets) {
  std::vector<MqttPublish> out;
  for (const MqttPacket& p : packets) {
    if (const auto* publish = absl::get_if<MqttPublish>(&p)) {
      out.push_back(*publish);
    }
  }
  return out;
}

std::vector<SessionEvent::Type> Types(const std::vector<SessionEvent>& events) {
  std::vector<SessionEvent::Type> out;
  for (const SessionEvent& e : events) out.push_back(e.type);
  return out;
}

}  // namespace cloudlink::mqtt
