#pragma once

// A broker for MqttSession tests: decodes what the session writes and feeds
// it encoded answers, on a clock the test advances.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/mqtt/mqtt_packet.h"
#include "server/mqtt/mqtt_session.h"

namespace cloudlink::mqtt {

// Client id, user name, password, will topic and payload, and a subscribe
// filter; the rest default.
SessionConfig TestConfig();

// A CONNACK with `reason` and no properties.
MqttConnack Connack(uint8_t reason = mqtt_reason::kSuccess);

// A PUBACK of `packet_id` with `reason`.
MqttPuback Puback(uint16_t packet_id, uint8_t reason = 0);

// Plays the broker: decodes what the session writes and feeds it encoded
// answers, cut into pieces of `chunk` bytes (0: all at once).
class Broker {
 public:
  explicit Broker(SessionConfig config = TestConfig(), size_t chunk = 0);

  MqttSession& session() { return session_; }
  absl::Time now() const { return now_; }
  void Advance(absl::Duration d) { now_ += d; }
  void set_chunk(size_t chunk) { chunk_ = chunk; }

  // MqttSession::Begin at now(); a test failure if it fails.
  void Begin();

  // Every packet the session wrote since the last call.
  std::vector<MqttPacket> Written();

  // The raw bytes the session wrote since the last call.
  std::string TakeBytes();

  // Feeds `bytes` to the session; its status.
  absl::Status SendBytes(absl::string_view bytes);

  // Feeds `packet`, encoded, to the session; its status.
  absl::Status Send(const MqttPacket& packet);

  // Begin + CONNACK; returns the packets written after the CONNACK.
  std::vector<MqttPacket> Connect(MqttConnack connack = Connack());

  // MqttSession::Publish at now(); the message id.
  uint64_t Publish(std::string topic, std::string payload, uint8_t qos);

  absl::Status Tick();
  void Disconnect();

 private:
  MqttSession session_;
  size_t chunk_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
  std::string out_;
};

// The PUBLISH packets among `packets`, in order.
std::vector<MqttPublish> Publishes(const std::vector<MqttPacket>& packets);

// The types of `events`, in order.
std::vector<SessionEvent::Type> Types(const std::vector<SessionEvent>& events);

}  // namespace cloudlink::mqtt
