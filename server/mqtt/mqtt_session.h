#pragma once

// The MQTT 5 client session of the link (docs/protocol.md), as pure
// logic: no sockets, threads or clock reads. The owner feeds it received
// bytes and the (monotonic) time, and sends whatever it appends to `out`.
//
//   Begin()      → CONNECT (clean start, keepalive, credentials, will QoS 1,
//                  Topic Alias Maximum)
//   CONNACK ok   → SUBSCRIBE inbox (QoS 1); queued messages go out
//   Publish()    → PUBLISH now if the send window allows, else queued;
//                  topic aliases up to the server's maximum
//   OnTick()     → PINGREQ after `ping_after_idle` without sending (or 3/4 of
//                  the server's Keep Alive if that is shorter); an error
//                  when no PINGRESP came within `pingresp_timeout`
//
// Every limit the server announces in CONNACK (Receive Maximum, Maximum
// Packet Size, Topic Alias Maximum, Maximum QoS, Server Keep Alive) is
// obeyed. Not thread-safe.
//
// A session serves one connection, with clean start: the broker keeps
// nothing of an earlier one, so nothing is resent with DUP. Messages not
// acknowledged when the connection ends are the owner's to send again on a
// new session (the link's PublishPump does, and counts them as resent).

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/mqtt/mqtt_decoder.h"
#include "server/mqtt/mqtt_packet.h"

namespace cloudlink::mqtt {

// The metadata key (error.h MetadataOf) of SERVER_DISCONNECT errors that
// carries the DISCONNECT's reason code as "0x8E".
inline constexpr char kDisconnectReasonCodeKey[] = "mqtt_reason_code";

struct SessionConfig {
  std::string client_id;
  std::string username;
  std::string password;  // a secret
  std::string will_topic;
  std::string will_payload;
  // Topic filter subscribed with QoS 1 after CONNACK; "" for none.
  std::string subscribe_filter;
  uint16_t keepalive_seconds = 60;
  absl::Duration ping_after_idle = absl::Seconds(45);
  absl::Duration pingresp_timeout = absl::Seconds(60);
  // What we accept from the server.
  uint32_t max_packet_size = 1u << 20;
  uint16_t topic_alias_maximum = 65535;
};

struct SessionEvent {
  enum class Type {
    kConnected,       // CONNACK success
    kMessage,         // an inbound PUBLISH: topic, payload
    kAcked,           // a QoS 1 message of ours was acknowledged: message_id
    kPublishFailed,   // PUBACK with reason >= 0x80, or too large: message_id,
                      // reason_code, reason
    kSubscribeFailed  // SUBACK refused: reason_code
  };
  Type type;
  uint64_t message_id = 0;
  uint8_t reason_code = 0;
  std::string reason;
  std::string topic;
  std::string payload;
};

struct SessionCounters {
  uint64_t published = 0;  // PUBLISH packets written (all QoS, resends too)
  uint64_t acked = 0;
  uint64_t failed = 0;
  uint64_t bytes = 0;  // payload bytes written
};

class MqttSession {
 public:
  explicit MqttSession(SessionConfig config);

  // Starts the session's connection: writes CONNECT. Messages published
  // before it wait for the CONNACK. A second successful Begin() is a
  // programming error: FAILED_PRECONDITION, nothing written.
  //
  // INVALID_ARGUMENT with reason LOGIN_INVALID when the client id, username,
  // password, will topic or will payload is longer than the
  // kMqttMaxFieldLength bytes MQTT can carry; the message names the field,
  // never its value. Then nothing is written, the session is not connected
  // (OnBytes fails until a Begin succeeds) and every message stays for a
  // later connection.
  absl::Status Begin(absl::Time now, std::string* out);

  // Handles received bytes. Errors end the connection (the owner closes the
  // transport): MQTT_MALFORMED / MQTT_PROTOCOL_ERROR / MQTT_PACKET_TOO_LARGE
  // from the decoder, MQTT_AUTH_FAILED (CONNACK 0x86/0x87/0x8C),
  // MQTT_CONNECT_REFUSED (other CONNACK failures), SERVER_DISCONNECT (the
  // server sent DISCONNECT; its reason code and string are named, and the
  // code, "0x8E", is the status's kDisconnectReasonCodeKey metadata).
  absl::Status OnBytes(absl::string_view bytes, absl::Time now,
                       std::string* out);

  // Keepalive; call at NextTick() or later. Error KEEPALIVE_TIMEOUT when the
  // PINGRESP is overdue.
  absl::Status OnTick(absl::Time now, std::string* out);
  absl::Time NextTick() const;

  // Queues a message and returns its id (> 0). QoS is 0 or 1 (capped at the
  // server's Maximum QoS). Written at once when connected and the window
  // allows.
  uint64_t Publish(std::string topic, std::string payload, uint8_t qos,
                   absl::Time now, std::string* out);

  // Writes DISCONNECT (normal, reason 0).
  void Disconnect(std::string* out);

  // Events since the last call, in order.
  std::vector<SessionEvent> TakeEvents();

  bool connected() const { return connected_; }
  size_t in_flight() const { return in_flight_.size(); }
  // How many QoS 1 messages may be in flight now: the server's Receive
  // Maximum, less the packet id the SUBSCRIBE holds until its SUBACK (PUBLISH
  // and SUBSCRIBE share the 65535 packet ids). Messages beyond it wait in
  // the queue; each PUBACK, and the SUBACK, lets the next ones out. So the
  // session never runs out of packet ids.
  size_t send_window() const;
  size_t queued() const { return queue_.size(); }
  const SessionCounters& counters() const { return counters_; }
  uint16_t server_receive_maximum() const { return server_receive_maximum_; }
  uint32_t server_max_packet_size() const { return server_max_packet_size_; }
  uint16_t server_topic_alias_maximum() const { return server_alias_max_; }

 private:
  struct Message {
    uint64_t id = 0;
    std::string topic;
    std::string payload;
    uint8_t qos = 0;
  };

  void HandleConnack(const MqttConnack& connack, absl::Time now,
                     std::string* out, absl::Status* error);
  void HandlePublish(MqttPublish& publish, absl::Time now, std::string* out,
                     absl::Status* error);
  void HandlePuback(const MqttPuback& puback);
  // Writes queued messages while the window allows.
  void Pump(absl::Time now, std::string* out);
  void WriteMessage(Message& message, absl::Time now, std::string* out);
  // The next packet id after the last one that is neither in flight nor the
  // SUBSCRIBE's; 0 when all are taken (which send_window() rules out).
  uint16_t NextPacketId();

  SessionConfig config_;
  bool connected_ = false;
  bool awaiting_connack_ = false;
  bool begun_ = false;  // Begin() succeeded once
  absl::Time last_send_ = absl::InfinitePast();
  absl::Time ping_sent_ = absl::InfiniteFuture();  // InfiniteFuture: none out

  // Server limits of the current connection.
  uint16_t server_receive_maximum_ = 65535;
  uint32_t server_max_packet_size_ = kMqttMaxPacketSize;
  uint16_t server_alias_max_ = 0;
  uint8_t server_max_qos_ = 1;
  // config_.ping_after_idle, shortened by the server's Keep Alive.
  absl::Duration ping_after_idle_ = absl::Seconds(45);

  std::unique_ptr<MqttDecoder> decoder_;
  std::deque<Message> queue_;              // not yet written
  std::map<uint16_t, Message> in_flight_;  // QoS 1, written, not acked
  absl::flat_hash_map<std::string, uint16_t> aliases_;  // ours, per connection
  absl::flat_hash_map<uint16_t, std::string> inbound_aliases_;
  uint16_t last_packet_id_ = 0;
  // The SUBSCRIBE's packet id while its SUBACK is outstanding (0: none).
  uint16_t pending_subscribe_id_ = 0;
  uint64_t next_message_id_ = 1;
  std::vector<SessionEvent> events_;
  SessionCounters counters_;
};

}  // namespace cloudlink::mqtt
