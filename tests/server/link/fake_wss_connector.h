#pragma once

// A transport::WssConnector whose connections replay a script, as
// Chromium's SequencedSocketData does for sockets: the test states, in
// order, what the broker side does (open, bytes, close), which MQTT packets
// the link must write, and how far time moves, and the fake checks the
// link's writes against it. Time is a FakeClock that only the script (and
// idle waits) move, so keepalive and connect budgets run in no real time.
//
//   FakeClock clock;
//   FakeWssConnector connector(&clock);
//   ScriptedConnection& c = connector.Script();
//   c.Open()
//    .Expect(mqtt::MqttPacketType::kConnect)
//    .Read(Connack())                       // bytes from the broker
//    .Expect(mqtt::MqttPacketType::kSubscribe, [](const mqtt::MqttPacket& p) {
//       return ...;                         // a predicate on the packet
//     })
//    .Advance(absl::Seconds(45))
//    .Expect(mqtt::MqttPacketType::kPingreq);
//
// Service(max_wait) runs one step: an event step (Open, Read, Close) is
// delivered to the listener; an Expect step is matched against the next
// packet the link wrote, and when the link has written nothing yet, the
// clock moves by max_wait instead (the link's timers then fire as they
// would while idle); Advance moves the clock. A written packet that does
// not match its Expect step, or a write after the script ended, is a test
// failure (ADD_FAILURE), recorded with the packet. When the script is used
// up the connection idles (the clock moves by max_wait per Service), and a
// Close() from the link is answered with OnClosed(OK).
//
// Thread-safety: as the interface (Wake() from any thread).

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"
#include "server/mqtt/mqtt_decoder.h"
#include "server/mqtt/mqtt_encoder.h"
#include "server/mqtt/mqtt_packet.h"
#include "server/transport/wss_connection.h"
#include "tests/testing/test_clock.h"

namespace cloudlink::testing {

using PacketCheck = std::function<bool(const mqtt::MqttPacket&)>;

class ScriptedConnection {
 public:
  ScriptedConnection& Open();
  // Bytes from the broker, delivered in one OnData.
  ScriptedConnection& Read(std::string bytes);
  // The same bytes, delivered in chunks of `chunk` bytes (one per Service).
  ScriptedConnection& ReadInChunks(const std::string& bytes, size_t chunk);
  // The next packet the link writes has `type` (and satisfies `check`).
  ScriptedConnection& Expect(mqtt::MqttPacketType type,
                             PacketCheck check = nullptr);
  ScriptedConnection& Advance(absl::Duration d);
  // The broker side closes (OnClosed(why)).
  ScriptedConnection& Close(absl::Status why);

  // What happened, for assertions after the run.
  const std::vector<mqtt::MqttPacket>& written() const { return written_; }
  bool link_closed() const { return link_closed_; }
  bool script_done() const { return steps_.empty(); }
  int connects() const { return connects_; }

 private:
  friend class FakeWssConnection;
  friend class FakeWssConnector;
  struct Step {
    enum class Kind { kOpen, kRead, kExpect, kAdvance, kClose };
    Kind kind = Kind::kOpen;
    std::string bytes;
    mqtt::MqttPacketType type = mqtt::MqttPacketType::kConnect;
    PacketCheck check;
    absl::Duration advance;
    absl::Status why;
  };
  std::deque<Step> steps_;
  std::vector<mqtt::MqttPacket> written_;
  bool link_closed_ = false;
  int connects_ = 0;
};

class FakeWssConnector : public transport::WssConnector {
 public:
  explicit FakeWssConnector(FakeClock* clock) : clock_(clock) {}

  // The script of the next connection (connections take scripts in order).
  // A Connect() with no script left fails with UNAVAILABLE CONNECT_FAILED.
  ScriptedConnection& Script();
  // The scripts handed out so far, in order.
  ScriptedConnection& connection(size_t i) { return *scripts_.at(i); }
  size_t connect_calls() const { return connect_calls_; }
  // The targets asked for, in order.
  const std::vector<transport::WssTarget>& targets() const { return targets_; }

  absl::StatusOr<std::unique_ptr<transport::WssConnection>> Connect(
      const transport::WssTarget& target,
      transport::WssListener* listener) override;

 private:
  FakeClock* const clock_;
  std::vector<std::unique_ptr<ScriptedConnection>> scripts_;
  size_t next_ = 0;
  size_t connect_calls_ = 0;
  std::vector<transport::WssTarget> targets_;
};

// Encoded broker packets for scripts.
std::string ConnackBytes(uint16_t receive_maximum = 65535,
                         uint16_t server_keepalive = 0);
std::string SubackBytes(uint16_t packet_id);
std::string PubackBytes(uint16_t packet_id, uint8_t reason = 0);
std::string PublishBytes(const std::string& topic, const std::string& payload,
                         uint8_t qos = 0, uint16_t packet_id = 0);
std::string PingrespBytes();

}  // namespace cloudlink::testing
