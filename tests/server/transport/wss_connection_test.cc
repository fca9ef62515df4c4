// WssConnection (libwebsockets 4.1) against a real mosquitto with websockets
// + TLS listeners, directly: TLS verification, MQTT through the broker,
// closing and wakes (through proxies: wss_proxy_test).

#include "server/transport/wss_connection.h"

#include <openssl/sha.h>
#include <stdlib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/types/variant.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "server/mqtt/mqtt_decoder.h"
#include "server/mqtt/mqtt_encoder.h"
#include "server/transport/lws_wss_connection.h"
#include "tests/server/api/test_pki.h"
#include "tests/server/transport/wss_test_fixture.h"
#include "tests/testing/ipv6_tls_server.h"
#include "tests/testing/loopback_port.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"

namespace cloudlink::transport {
namespace {

using ::cloudlink::testing::Ipv6TlsServer;
using ::cloudlink::testing::PickFreePort;
using wss_testing::ConnectAndSubscribe;
using wss_testing::kWait;
using wss_testing::MqttConnectBytes;
using wss_testing::RecordingListener;
using wss_testing::ServiceUntil;
using wss_testing::WssConnectionTest;

TEST_F(WssConnectionTest, OpensWithRightCaAndExchangesMqtt) {
  ExpectMqttRoundTrip(Target());
}

TEST_F(WssConnectionTest, DirectIgnoresHttpProxyEnvironment) {
  // lws 4.1 would otherwise read http_proxy on its own.
  const int dead_port = PickFreePort();
  setenv("http_proxy", absl::StrCat("127.0.0.1:", dead_port).c_str(), 1);
  ExpectMqttRoundTrip(Target());
  unsetenv("http_proxy");
}

TEST_F(WssConnectionTest, WrongCaIsTlsVerifyFailed) {
  WssTarget target = Target();
  target.ca_file = Path("other_ca.pem");
  const absl::Status status = ExpectFailure(target, "TLS_VERIFY_FAILED");
  EXPECT_TRUE(absl::StrContains(status.message(),
                                "TLS certificate verification failed"))
      << status;
}

TEST_F(WssConnectionTest, InsecureWithWrongCaOpens) {
  WssTarget target = Target();
  target.ca_file = Path("other_ca.pem");
  target.insecure = true;
  ExpectMqttRoundTrip(target);
}

TEST_F(WssConnectionTest, CertificateForAnotherNameIsTlsVerifyFailed) {
  (void)ExpectFailure(Target(other_name_port_), "TLS_VERIFY_FAILED");
}

// A broker given as an IPv6 literal is verified against that address: a
// certificate valid only for localhost and 127.0.0.1 fails the handshake,
// and the server receives nothing (no WebSocket request, no MQTT CONNECT).
TEST_F(WssConnectionTest, Ipv6LiteralIsVerifiedAgainstTheAddress) {
  Ipv6TlsServer server(Path("server.pem"), Path("server.key"), kWait);
  ASSERT_NE(server.port(), 0);
  WssTarget target = Target();
  target.url = absl::StrCat("wss://[::1]:", server.port(), "/mqtt");
  const absl::Status status = ExpectFailure(target, "TLS_VERIFY_FAILED");
  EXPECT_TRUE(absl::StrContains(status.message(), "::1")) << status;
  EXPECT_EQ(server.Received(), "");
  EXPECT_FALSE(server.handshake_done());
}

// ... and a certificate that names the address is accepted: the WebSocket
// request reaches the server.
TEST_F(WssConnectionTest, Ipv6LiteralWithItsAddressInTheCertificatePasses) {
  const testing::TestPki pki =
      testing::TestPki::Adopt(Path(""), "v6", {Path("ca.pem"), Path("ca.key")});
  absl::StatusOr<testing::CertFiles> v6 =
      pki.IssueServerFor("server", "IP:::1");
  ASSERT_TRUE(v6.ok()) << v6.status();
  Ipv6TlsServer server(v6->cert, v6->key, kWait);
  ASSERT_NE(server.port(), 0);
  WssTarget target = Target();
  target.url = absl::StrCat("wss://[::1]:", server.port(), "/mqtt");
  RecordingListener listener;
  auto connection = LwsWssConnector().Connect(target, &listener);
  ASSERT_TRUE(connection.ok()) << connection.status();
  ServiceUntil(**connection, [&] { return listener.closes > 0; });
  EXPECT_TRUE(server.handshake_done());
  EXPECT_TRUE(absl::StartsWith(server.Received(), "GET /mqtt"))
      << server.Received();
  EXPECT_NE(ReasonOf(listener.closed_with), "TLS_VERIFY_FAILED")
      << listener.closed_with;
}

TEST_F(WssConnectionTest, RefusedPortIsConnectFailed) {
  // lws 4.1 does not say "refused" (only "Unable to connect").
  const absl::Status status =
      ExpectFailure(Target(PickFreePort()), "CONNECT_FAILED");
  EXPECT_TRUE(absl::StrContains(status.message(), "connect")) << status;
}

TEST_F(WssConnectionTest, BadUrlIsRefusedAtConnect) {
  RecordingListener listener;
  WssTarget target = Target();
  target.url = "https://localhost/mqtt";
  auto connection = LwsWssConnector().Connect(target, &listener);
  EXPECT_EQ(ReasonOf(connection.status()), "URL_INVALID");
}

TEST_F(WssConnectionTest, LargeSendsArriveWholeThroughTheBroker) {
  RecordingListener listener;
  auto connection = LwsWssConnector().Connect(Target(), &listener);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(ConnectAndSubscribe(**connection, listener, "wss-test/echo"));
  // Messages larger than one frame, queued at once: they go out coalesced
  // and split at the frame cap. The broker acknowledges each QoS 1 message
  // only if it decoded the whole packet. (mosquitto returns large messages
  // to websockets clients slowly, so only a small one is echoed back.)
  auto payload = [](size_t size, int seed) {
    std::string bytes(size, '\0');
    for (size_t j = 0; j < size; ++j) {
      bytes[j] = static_cast<char>((j * 31 + seed) & 0xFF);
    }
    return bytes;
  };
  for (uint16_t id = 10; id < 13; ++id) {
    mqtt::MqttPublish publish;
    publish.qos = 1;
    publish.packet_id = id;
    publish.topic = "wss-test/sink";
    publish.payload = payload(150 * 1024 + id, id);
    std::string bytes;
    ASSERT_TRUE(mqtt::EncodePublish(publish, &bytes).ok());
    (*connection)->Send(bytes);
  }
  mqtt::MqttPublish echo;
  echo.topic = "wss-test/echo";
  echo.payload = payload(20 * 1024, 99);
  std::string bytes;
  ASSERT_TRUE(mqtt::EncodePublish(echo, &bytes).ok());
  (*connection)->Send(bytes);
  EXPECT_GT((*connection)->pending_bytes(), 3u * 150 * 1024);
  std::vector<uint16_t> acked;
  std::vector<std::string> echoed;
  ASSERT_TRUE(ServiceUntil(**connection, [&] {
    acked.clear();
    echoed.clear();
    for (const mqtt::MqttPacket& p : listener.packets) {
      if (const auto* puback = absl::get_if<mqtt::MqttPuback>(&p)) {
        acked.push_back(puback->packet_id);
      }
      if (const auto* publish = absl::get_if<mqtt::MqttPublish>(&p)) {
        echoed.push_back(publish->payload);
      }
    }
    return (acked.size() == 3 && echoed.size() == 1) || listener.closes > 0;
  })) << listener.closed_with;
  EXPECT_EQ(acked, (std::vector<uint16_t>{10, 11, 12}));
  ASSERT_EQ(echoed.size(), 1u);
  EXPECT_TRUE(echoed[0] == echo.payload);
  EXPECT_EQ((*connection)->pending_bytes(), 0u);
}

// Our frames are masked by us (word-wise, a fresh key per frame) and handed
// to lws raw. Messages of many sizes, queued together so that frames start
// and end at every offset of the MQTT stream, must come back from the broker
// byte for byte: a masking slip anywhere would corrupt a payload or break
// the MQTT stream.
TEST_F(WssConnectionTest, EchoedPayloadsOfManySizesComeBackIntact) {
  RecordingListener listener;
  auto connection = LwsWssConnector().Connect(Target(), &listener);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(ConnectAndSubscribe(**connection, listener, "wss-test/sizes"));
  std::vector<std::string> sent;
  for (size_t size :
       {0,   1,   2,    3,    5,    7,     8,     9,     63,    64,
        65,  117, 118,  119,  120,  121,   122,   123,   124,   125,
        126, 127, 1000, 4093, 4099, 16381, 16384, 16387, 40000, 65531}) {
    std::string payload(size, '\0');
    for (size_t j = 0; j < size; ++j) {
      payload[j] = static_cast<char>((j * 131 + size * 7 + (j >> 8)) & 0xFF);
    }
    mqtt::MqttPublish publish;
    publish.topic = "wss-test/sizes";
    publish.payload = payload;
    std::string bytes;
    ASSERT_TRUE(mqtt::EncodePublish(publish, &bytes).ok());
    (*connection)->Send(bytes);
    sent.push_back(std::move(payload));
  }
  std::vector<std::string> echoed;
  ASSERT_TRUE(ServiceUntil(**connection, [&] {
    echoed.clear();
    for (const mqtt::MqttPacket& p : listener.packets) {
      if (const auto* publish = absl::get_if<mqtt::MqttPublish>(&p)) {
        echoed.push_back(publish->payload);
      }
    }
    return echoed.size() >= sent.size() || listener.closes > 0;
  })) << listener.closed_with;
  ASSERT_EQ(echoed.size(), sent.size()) << listener.closed_with;
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_TRUE(echoed[i] == sent[i])
        << "message " << i << " of " << sent[i].size() << " bytes";
  }
  (*connection)->Close();
  EXPECT_TRUE(ServiceUntil(**connection, [&] { return listener.closes > 0; }));
  EXPECT_TRUE(listener.closed_with.ok()) << listener.closed_with;
}

// Records already in the socket arrive in one Service() pass: TLS reads
// ahead (one read() takes many records) and the records it buffered are
// handed on in the same pass, where lws alone takes one record per pass
// (and OpenSSL, without read-ahead, two reads per record). The link so
// completes a burst of PUBACKs with one lock and one write per producer.
TEST_F(WssConnectionTest, ABurstOfRecordsArrivesInOnePass) {
  // A subscriber on a connection of its own tells when the broker has
  // handled every PUBLISH, and so has written every PUBACK.
  RecordingListener watcher_listener;
  auto watcher = LwsWssConnector().Connect(Target(), &watcher_listener);
  ASSERT_TRUE(watcher.ok());
  ASSERT_TRUE(ConnectAndSubscribe(**watcher, watcher_listener, "wss-test/burst",
                                  "wss-test-watcher"));
  RecordingListener listener;
  auto connection = LwsWssConnector().Connect(Target(), &listener);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(ServiceUntil(**connection, [&] { return listener.opens > 0; }));
  (*connection)->Send(MqttConnectBytes());
  ASSERT_TRUE(ServiceUntil(**connection, [&] {
    return listener.GotConnack() || listener.closes > 0;
  }));
  constexpr int kMessages = 64;
  std::string burst;
  for (int i = 0; i < kMessages; ++i) {
    mqtt::MqttPublish publish;
    publish.qos = 1;
    publish.packet_id = static_cast<uint16_t>(i + 1);
    publish.topic = "wss-test/burst";
    publish.payload = absl::StrCat(i);
    ASSERT_TRUE(mqtt::EncodePublish(publish, &burst).ok());
  }
  (*connection)->Send(burst);
  ASSERT_TRUE(ServiceUntil(
      **connection, [&] { return (*connection)->pending_bytes() == 0; }));
  ASSERT_TRUE(ServiceUntil(**watcher, [&] {
    return watcher_listener.Count<mqtt::MqttPublish>() >= kMessages;
  }));
  int passes = 0;
  EXPECT_TRUE(ServiceUntil(**connection,
                           [&] {
                             if (listener.Count<mqtt::MqttPuback>() >=
                                 kMessages)
                               return true;
                             ++passes;
                             return false;
                           }))
      << listener.Count<mqtt::MqttPuback>() << " PUBACKs";
  // Typically 2; the broker may write its PUBACKs over a few of its own
  // loop turns. One pass per record would be 64.
  EXPECT_LE(passes, kMessages / 4) << "one pass per record";
  RecordProperty("passes", passes);
}

// The value of `name` (lowercase) in an HTTP request's headers; "".
std::string HeaderValue(const std::string& request, const std::string& name) {
  const std::string lower = absl::AsciiStrToLower(request);
  const size_t at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  const size_t start = at + name.size() + 3;
  const size_t end = request.find("\r\n", start);
  return std::string(absl::StripAsciiWhitespace(
      absl::string_view(request).substr(start, end - start)));
}

// A WebSocket frame from a server (unmasked), payload under 126 bytes.
std::string ServerFrame(uint8_t opcode, const std::string& payload) {
  std::string frame;
  frame.push_back(static_cast<char>(0x80 | opcode));
  frame.push_back(static_cast<char>(payload.size()));
  return frame + payload;
}

// A record that gives lws no data to deliver (here the first half of a
// WebSocket frame whose payload comes in the next record; likewise a pong)
// among records already read ahead does not leave the records after it in
// OpenSSL's buffer, where no readable event would ever report them: every
// frame of the burst arrives, in a few passes.
TEST_F(WssConnectionTest, ARecordWithoutDataAmongReadAheadOnesHoldsNothingUp) {
  const testing::TestPki pki =
      testing::TestPki::Adopt(Path(""), "v6", {Path("ca.pem"), Path("ca.key")});
  absl::StatusOr<testing::CertFiles> v6 =
      pki.IssueServerFor("server", "IP:::1");
  ASSERT_TRUE(v6.ok()) << v6.status();
  constexpr int kFrames = 20;
  Ipv6TlsServer server(
      v6->cert, v6->key, kWait, [](const std::string& request) {
        unsigned char digest[SHA_DIGEST_LENGTH];
        const std::string key = HeaderValue(request, "sec-websocket-key") +
                                "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
        SHA1(reinterpret_cast<const unsigned char*>(key.data()), key.size(),
             digest);
        std::vector<std::string> records = {absl::StrCat(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Accept: ",
            absl::Base64Escape(absl::string_view(
                reinterpret_cast<const char*>(digest), sizeof(digest))),
            "\r\nSec-WebSocket-Protocol: ",
            HeaderValue(request, "sec-websocket-protocol"), "\r\n\r\n")};
        for (int i = 1; i <= kFrames; ++i) {
          // A PUBACK for packet id i; the second frame's header and payload
          // in records of their own.
          const std::string frame = ServerFrame(
              0x2, std::string({'\x40', '\x02', '\0', static_cast<char>(i)}));
          if (i == 2) {
            records.push_back(frame.substr(0, 2));
            records.push_back(frame.substr(2));
          } else {
            records.push_back(frame);
          }
        }
        return records;
      });
  ASSERT_NE(server.port(), 0);
  WssTarget target = Target();
  target.url = absl::StrCat("wss://[::1]:", server.port(), "/mqtt");
  RecordingListener listener;
  auto connection = LwsWssConnector().Connect(target, &listener);
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(ServiceUntil(**connection, [&] {
    return listener.opens > 0 || listener.closes > 0;
  })) << listener.closed_with;
  ASSERT_EQ(listener.opens, 1) << listener.closed_with;
  // Each Service() may wait 10 s for an event, and the server sends nothing
  // more: frames left in OpenSSL's buffer would wait for the end of such a
  // wait.
  const absl::Time start = absl::Now();
  for (int pass = 0; pass < 10 && listener.closes == 0 &&
                     listener.Count<mqtt::MqttPuback>() < kFrames;
       ++pass) {
    (*connection)->Service(absl::Seconds(10));
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(5))
      << listener.Count<mqtt::MqttPuback>() << " of " << kFrames << " frames";
  EXPECT_EQ(listener.Count<mqtt::MqttPuback>(), kFrames)
      << listener.closed_with;
  (*connection)->Close();
  ServiceUntil(**connection, [&] { return listener.closes > 0; });
}

TEST_F(WssConnectionTest, BrokerClosingAfterOpenIsConnectionLost) {
  RecordingListener listener;
  auto connection = LwsWssConnector().Connect(Target(), &listener);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(ServiceUntil(**connection, [&] { return listener.opens > 0; }));
  // Not MQTT: the broker drops the connection.
  (*connection)->Send(std::string("\xF0\xFF\xFF\xFF\xFF\x0F", 6));
  ASSERT_TRUE(ServiceUntil(**connection, [&] { return listener.closes > 0; }));
  EXPECT_EQ(listener.closes, 1);
  EXPECT_EQ(listener.closed_with.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(listener.closed_with), "CONNECTION_LOST")
      << listener.closed_with;
  // Sending after the close is ignored, and no second OnClosed comes.
  (*connection)->Send("x");
  (*connection)->Service(absl::Milliseconds(100));
  EXPECT_EQ(listener.closes, 1);
}

TEST_F(WssConnectionTest, ServiceReturnsAfterMaxWaitWhenIdle) {
  RecordingListener listener;
  auto connection = LwsWssConnector().Connect(Target(), &listener);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(ServiceUntil(**connection, [&] { return listener.opens > 0; }));
  const absl::Time start = absl::Now();
  (*connection)->Service(absl::Milliseconds(200));
  const absl::Duration took = absl::Now() - start;
  EXPECT_LT(took, absl::Seconds(2));
}

TEST_F(WssConnectionTest, WakeFromAnotherThreadRunsOnWake) {
  RecordingListener listener;
  auto connection = LwsWssConnector().Connect(Target(), &listener);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(ServiceUntil(**connection, [&] { return listener.opens > 0; }));
  WssConnection* raw = connection->get();
  std::atomic<bool> go{false};
  std::thread waker([&] {
    while (!go.load()) std::this_thread::yield();
    raw->Wake();
    raw->Wake();  // coalesced
  });
  go = true;
  const absl::Time start = absl::Now();
  // A long max_wait: only the wake can make Service() return early.
  while (listener.wakes == 0 && absl::Now() - start < kWait) {
    raw->Service(absl::Seconds(20));
  }
  waker.join();
  EXPECT_GE(listener.wakes, 1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(WssConnectionTest, ConnectBudgetExpiresAsConnectTimeout) {
  // A listener that never completes TLS: the budget runs out first.
  auto silent = ::cloudlink::testing::LoopbackListener::Open();
  ASSERT_TRUE(silent.ok()) << silent.status();
  WssTarget target = Target((*silent)->port());
  target.connect_budget = absl::Milliseconds(500);
  const absl::Time start = absl::Now();
  (void)ExpectFailure(target, "CONNECT_TIMEOUT");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(WssConnectionTest, CloseBeforeOpenReportsOk) {
  RecordingListener listener;
  auto connection = LwsWssConnector().Connect(Target(), &listener);
  ASSERT_TRUE(connection.ok());
  (*connection)->Close();
  EXPECT_EQ(listener.closes, 0);  // only from inside Service()
  ASSERT_TRUE(ServiceUntil(**connection, [&] { return listener.closes > 0; }));
  EXPECT_TRUE(listener.closed_with.ok());
  (*connection)->Service(absl::Milliseconds(100));
  EXPECT_EQ(listener.opens, 0);
  EXPECT_EQ(listener.closes, 1);
}

}  // namespace
}  // namespace cloudlink::transport
