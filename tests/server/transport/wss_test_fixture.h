#pragma once

// A real mosquitto with WebSocket + TLS listeners for the WssConnection
// tests, with its own throwaway PKI, plus tinyproxy and microsocks on demand
// and a listener that records what the connection reports. Started once per
// test binary (SetUpTestSuite); the processes and files go at the end.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/mqtt/mqtt_decoder.h"
#include "server/mqtt/mqtt_encoder.h"
#include "server/transport/wss_connection.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"

namespace cloudlink::transport::wss_testing {

inline constexpr absl::Duration kWait = absl::Seconds(15);

// Records what the connection reports.
class RecordingListener : public WssListener {
 public:
  void OnOpen() override { ++opens; }
  void OnData(absl::string_view bytes) override {
    decoder.Feed(bytes);
    while (true) {
      auto next = decoder.Next();
      if (!next.ok() || !next->has_value()) break;
      packets.push_back(**std::move(next));
    }
  }
  void OnClosed(const absl::Status& why) override {
    ++closes;
    closed_with = why;
  }
  void OnWake() override { ++wakes; }

  bool GotConnack() const {
    for (const mqtt::MqttPacket& p : packets) {
      if (absl::holds_alternative<mqtt::MqttConnack>(p)) return true;
    }
    return false;
  }

  template <typename Packet>
  int Count() const {
    int n = 0;
    for (const mqtt::MqttPacket& p : packets) {
      n += absl::holds_alternative<Packet>(p) ? 1 : 0;
    }
    return n;
  }

  int opens = 0;
  int closes = 0;
  int wakes = 0;
  absl::Status closed_with;
  mqtt::MqttDecoder decoder{0};
  std::vector<mqtt::MqttPacket> packets;
};

// Services `connection` until `done` holds or `timeout` passes.
bool ServiceUntil(WssConnection& connection, const std::function<bool()>& done,
                  absl::Duration timeout = kWait);

// An MQTT CONNECT (keepalive 60 s). Connections open at the same time need
// client ids of their own: the broker drops the older of two.
std::string MqttConnectBytes(const std::string& client_id = "wss-test");

// Waits for `connection` to open, sends CONNECT and a QoS 0 SUBSCRIBE to
// `topic`, and services it until the SUBACK (true) or a close (false).
bool ConnectAndSubscribe(WssConnection& connection, RecordingListener& listener,
                         const std::string& topic,
                         const std::string& client_id = "wss-test");

// The broker: a CA, a server certificate for localhost / 127.0.0.1 on
// port_, one for another name (elsewhere.example) on other_name_port_, and
// an unrelated CA (Path("other_ca.pem")).
class WssConnectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  static std::string Path(const std::string& name) { return dir_->Join(name); }

  // wss://localhost:PORT/mqtt (port_ unless given) trusting the test CA.
  WssTarget Target(int port = 0);

  // Connects, expects OnOpen, sends CONNECT and expects a CONNACK.
  void ExpectMqttRoundTrip(const WssTarget& target);

  // Connects and expects OnClosed with `reason` before any OnOpen; returns
  // the status for further checks.
  absl::Status ExpectFailure(const WssTarget& target,
                             const std::string& reason);

  // tinyproxy on 127.0.0.1:`proxy_port`, with `auth_line` ("BasicAuth u
  // p\n" or ""); nullptr (and a test failure) when it does not start.
  std::unique_ptr<testing::Subprocess> StartTinyproxy(
      int proxy_port, const std::string& auth_line);

  // microsocks on 127.0.0.1:`proxy_port`, with a user and password when
  // given; nullptr (and a test failure) when it does not start.
  std::unique_ptr<testing::Subprocess> StartMicrosocks(
      int proxy_port, const std::string& user = "",
      const std::string& pass = "");

  static testing::TempDir* dir_;
  static testing::Subprocess* mosquitto_;
  static int port_;
  static int other_name_port_;
};

}  // namespace cloudlink::transport::wss_testing
