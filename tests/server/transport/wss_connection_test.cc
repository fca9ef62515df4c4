// WssConnection (libwebsockets 4.1) against a real mosquitto with websockets
// + TLS listeners, directly and through tinyproxy (HTTP CONNECT) and
// microsocks (SOCKS5 / SOCKS5h, via the relay).

#include "server/transport/wss_connection.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/types/variant.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "server/mqtt/mqtt_decoder.h"
#include "server/mqtt/mqtt_encoder.h"
#include "server/transport/lws_wss_connection.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/loopback_port.h"
#include "tests/testing/test_env.h"

namespace cloudlink::transport {
namespace {

using ::cloudlink::testing::PickFreePort;
using ::cloudlink::testing::Run;
using ::cloudlink::testing::Subprocess;
using ::cloudlink::testing::SubprocessOptions;
using ::cloudlink::testing::TempDir;
using ::cloudlink::testing::WaitFor;
using ::cloudlink::testing::WriteFile;

constexpr absl::Duration kWait = absl::Seconds(15);

void RunOrDie(std::vector<std::string> argv) {
  SubprocessOptions options;
  options.argv = std::move(argv);
  auto result = Run(options, absl::Seconds(30));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->exit_code, 0) << options.argv[0] << ": " << result->err;
}

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

  int opens = 0;
  int closes = 0;
  int wakes = 0;
  absl::Status closed_with;
  mqtt::MqttDecoder decoder{0};
  std::vector<mqtt::MqttPacket> packets;
};

// Services `connection` until `done` holds or `timeout` passes.
bool ServiceUntil(WssConnection& connection, const std::function<bool()>& done,
                  absl::Duration timeout = kWait) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    connection.Service(absl::Milliseconds(50));
  }
  return true;
}

std::string MqttConnectBytes() {
  mqtt::MqttConnect connect;
  connect.client_id = "wss-test";
  connect.keep_alive_seconds = 60;
  std::string out;
  EXPECT_TRUE(mqtt::EncodeConnect(connect, &out).ok());
  return out;
}

// Waits for `connection` to open, sends CONNECT and a QoS 0 SUBSCRIBE to
// `topic`, and services it until the SUBACK (true) or a close (false).
bool ConnectAndSubscribe(WssConnection& connection, RecordingListener& listener,
                         const std::string& topic) {
  if (!ServiceUntil(connection, [&] { return listener.opens > 0; })) {
    return false;
  }
  std::string out = MqttConnectBytes();
  mqtt::MqttSubscribe subscribe;
  subscribe.packet_id = 1;
  subscribe.subscriptions.push_back({topic, 0});
  if (!mqtt::EncodeSubscribe(subscribe, &out).ok()) return false;
  connection.Send(out);
  bool subacked = false;
  ServiceUntil(connection, [&] {
    for (const mqtt::MqttPacket& p : listener.packets) {
      if (absl::holds_alternative<mqtt::MqttSuback>(p)) subacked = true;
    }
    return subacked || listener.closes > 0;
  });
  return subacked;
}

class WssConnectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string d = dir_->path();
    // A CA, a server certificate for localhost / 127.0.0.1, a second server
    // certificate for another name, and an unrelated CA.
    const std::vector<std::string> ec = {
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
    auto req_x509 = [&](const std::string& name, const std::string& cn) {
      std::vector<std::string> argv = {"/usr/bin/openssl", "req", "-x509"};
      argv.insert(argv.end(), ec.begin(), ec.end());
      argv.insert(argv.end(), {"-keyout", d + "/" + name + ".key", "-out",
                               d + "/" + name + ".pem", "-days", "2", "-subj",
                               "/CN=" + cn});
      RunOrDie(argv);
    };
    auto server_cert = [&](const std::string& name, const std::string& san) {
      std::vector<std::string> argv = {"/usr/bin/openssl", "req"};
      argv.insert(argv.end(), ec.begin(), ec.end());
      argv.insert(argv.end(), {"-keyout", d + "/" + name + ".key", "-out",
                               d + "/" + name + ".csr", "-subj", "/CN=server"});
      RunOrDie(argv);
      ASSERT_TRUE(WriteFile(d + "/" + name + ".ext",
                            "subjectAltName=" + san +
                                "\nbasicConstraints=CA:FALSE\n"
                                "extendedKeyUsage=serverAuth\n")
                      .ok());
      RunOrDie({"/usr/bin/openssl", "x509", "-req", "-in",
                d + "/" + name + ".csr", "-CA", d + "/ca.pem", "-CAkey",
                d + "/ca.key", "-CAcreateserial", "-out",
                d + "/" + name + ".pem", "-days", "2", "-extfile",
                d + "/" + name + ".ext"});
    };
    req_x509("ca", "cloudlink test CA");
    req_x509("other_ca", "unrelated CA");
    server_cert("server", "DNS:localhost,IP:127.0.0.1");
    server_cert("elsewhere", "DNS:elsewhere.example");

    port_ = PickFreePort();
    other_name_port_ = PickFreePort();
    std::string config = absl::StrCat(
        "per_listener_settings false\n"
        "allow_anonymous true\n"
        "log_dest stderr\n",
        geteuid() == 0 ? "user root\n" : "", "listener ", port_, " 127.0.0.1\n",
        "protocol websockets\n"
        "socket_domain ipv4\n"
        "certfile ",
        d, "/server.pem\n", "keyfile ", d, "/server.key\n", "cafile ", d,
        "/ca.pem\n", "listener ", other_name_port_, " 127.0.0.1\n",
        "protocol websockets\n"
        "socket_domain ipv4\n"
        "certfile ",
        d, "/elsewhere.pem\n", "keyfile ", d, "/elsewhere.key\n", "cafile ", d,
        "/ca.pem\n", "listener 0 ", d, "/mqtt.sock\n");
    ASSERT_TRUE(WriteFile(d + "/mosquitto.conf", config).ok());
    SubprocessOptions options;
    options.argv = {"/usr/sbin/mosquitto", "-c", d + "/mosquitto.conf"};
    options.stderr_path = d + "/mosquitto.log";
    auto started = Subprocess::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    mosquitto_ = started->release();
    ASSERT_TRUE(WaitFor(
        [] {
          return testing::LoopbackPortAcceptsConnections(port_) &&
                 testing::LoopbackPortAcceptsConnections(other_name_port_);
        },
        kWait))
        << ::cloudlink::testing::ReadFileOrEmpty(d + "/mosquitto.log");
  }

  static void TearDownTestSuite() {
    delete mosquitto_;
    mosquitto_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  static std::string Path(const std::string& name) { return dir_->Join(name); }

  WssTarget Target(int port = 0) {
    WssTarget target;
    target.url =
        absl::StrCat("wss://localhost:", port == 0 ? port_ : port, "/mqtt");
    target.ca_file = Path("ca.pem");
    return target;
  }

  // Connects, expects OnOpen, sends CONNECT and expects a CONNACK.
  void ExpectMqttRoundTrip(const WssTarget& target) {
    RecordingListener listener;
    auto connection = LwsWssConnector().Connect(target, &listener);
    ASSERT_TRUE(connection.ok()) << connection.status();
    ASSERT_TRUE(ServiceUntil(**connection, [&] {
      return listener.opens > 0 || listener.closes > 0;
    }));
    ASSERT_EQ(listener.opens, 1) << listener.closed_with;
    (*connection)->Send(MqttConnectBytes());
    EXPECT_TRUE(ServiceUntil(**connection, [&] {
      return listener.GotConnack() || listener.closes > 0;
    }));
    EXPECT_TRUE(listener.GotConnack()) << listener.closed_with;
    (*connection)->Close();
    EXPECT_TRUE(
        ServiceUntil(**connection, [&] { return listener.closes > 0; }));
    EXPECT_EQ(listener.closes, 1);
    EXPECT_TRUE(listener.closed_with.ok()) << listener.closed_with;
  }

  // Connects and expects OnClosed with `reason` before any OnOpen; returns
  // the status for further checks.
  absl::Status ExpectFailure(const WssTarget& target,
                             const std::string& reason) {
    RecordingListener listener;
    auto connection = LwsWssConnector().Connect(target, &listener);
    EXPECT_TRUE(connection.ok()) << connection.status();
    if (!connection.ok()) return connection.status();
    EXPECT_TRUE(
        ServiceUntil(**connection, [&] { return listener.closes > 0; }));
    EXPECT_EQ(listener.opens, 0);
    EXPECT_EQ(listener.closes, 1);
    EXPECT_EQ(listener.closed_with.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(ReasonOf(listener.closed_with), reason) << listener.closed_with;
    return listener.closed_with;
  }

  std::unique_ptr<Subprocess> StartTinyproxy(int proxy_port,
                                             const std::string& auth_line) {
    const std::string conf = Path(absl::StrCat("tinyproxy", proxy_port));
    // No User/Group lines: as root tinyproxy would then drop supplementary
    // groups, which the test sandbox refuses.
    EXPECT_TRUE(WriteFile(conf, absl::StrCat("Port ", proxy_port,
                                             "\nListen 127.0.0.1\n"
                                             "Timeout 30\nMaxClients 8\n",
                                             auth_line))
                    .ok());
    SubprocessOptions options;
    options.argv = {"/usr/bin/tinyproxy", "-d", "-c", conf};
    options.stderr_path = conf + ".log";
    options.stdout_path = conf + ".out";
    auto started = Subprocess::Start(options);
    EXPECT_TRUE(started.ok()) << started.status();
    if (!started.ok()) return nullptr;
    EXPECT_TRUE(WaitFor(
        [&] { return testing::LoopbackPortAcceptsConnections(proxy_port); },
        kWait))
        << ::cloudlink::testing::ReadFileOrEmpty(conf + ".log")
        << ::cloudlink::testing::ReadFileOrEmpty(conf + ".out");
    return *std::move(started);
  }

  std::unique_ptr<Subprocess> StartMicrosocks(int proxy_port,
                                              const std::string& user = "",
                                              const std::string& pass = "") {
    SubprocessOptions options;
    options.argv = {"/usr/bin/microsocks", "-i", "127.0.0.1", "-p",
                    absl::StrCat(proxy_port)};
    if (!user.empty()) {
      options.argv.insert(options.argv.end(), {"-u", user, "-P", pass});
    }
    auto started = Subprocess::Start(options);
    EXPECT_TRUE(started.ok()) << started.status();
    if (!started.ok()) return nullptr;
    EXPECT_TRUE(WaitFor(
        [&] { return testing::LoopbackPortAcceptsConnections(proxy_port); },
        kWait));
    return *std::move(started);
  }

  static TempDir* dir_;
  static Subprocess* mosquitto_;
  static int port_;
  static int other_name_port_;
};

TempDir* WssConnectionTest::dir_ = nullptr;
Subprocess* WssConnectionTest::mosquitto_ = nullptr;
int WssConnectionTest::port_ = 0;
int WssConnectionTest::other_name_port_ = 0;

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

TEST_F(WssConnectionTest, ThroughHttpProxy) {
  const int proxy_port = PickFreePort();
  auto tinyproxy = StartTinyproxy(proxy_port, "");
  ASSERT_NE(tinyproxy, nullptr);
  WssTarget target = Target();
  target.proxy.kind = config::ProxyKind::kHttp;
  target.proxy.host = "127.0.0.1";
  target.proxy.port = proxy_port;
  ExpectMqttRoundTrip(target);
}

TEST_F(WssConnectionTest, ThroughHttpProxyWithBasicAuth) {
  const int proxy_port = PickFreePort();
  auto tinyproxy = StartTinyproxy(proxy_port, "BasicAuth u p4ss\n");
  ASSERT_NE(tinyproxy, nullptr);
  WssTarget target = Target();
  target.proxy.kind = config::ProxyKind::kHttp;
  target.proxy.host = "127.0.0.1";
  target.proxy.port = proxy_port;
  target.proxy.username = "u";
  target.proxy.password = "p4ss";
  ExpectMqttRoundTrip(target);

  target.proxy.password = "wrong-secret";
  const absl::Status status = ExpectFailure(target, "PROXY_AUTH");
  EXPECT_FALSE(absl::StrContains(status.message(), "wrong-secret"));
}

TEST_F(WssConnectionTest, HttpProxyDownIsConnectFailed) {
  WssTarget target = Target();
  target.proxy.kind = config::ProxyKind::kHttp;
  target.proxy.host = "127.0.0.1";
  target.proxy.port = PickFreePort();
  (void)ExpectFailure(target, "CONNECT_FAILED");
}

TEST_F(WssConnectionTest, ThroughSocks5AndSocks5h) {
  const int proxy_port = PickFreePort();
  auto microsocks = StartMicrosocks(proxy_port);
  ASSERT_NE(microsocks, nullptr);
  for (config::ProxyKind kind :
       {config::ProxyKind::kSocks5, config::ProxyKind::kSocks5h}) {
    SCOPED_TRACE(config::ProxyKindName(kind));
    WssTarget target = Target();
    target.proxy.kind = kind;
    target.proxy.host = "127.0.0.1";
    target.proxy.port = proxy_port;
    ExpectMqttRoundTrip(target);
  }
}

TEST_F(WssConnectionTest, ThroughSocks5VerifiesTheEndpointNameNotTheRelay) {
  // lws connects to the relay's Unix socket, yet SNI and verification must
  // use the URL's host: "localhost" passes above; a certificate for another
  // name fails here, and insecure accepts it.
  const int proxy_port = PickFreePort();
  auto microsocks = StartMicrosocks(proxy_port);
  ASSERT_NE(microsocks, nullptr);
  WssTarget target = Target(other_name_port_);
  target.proxy.kind = config::ProxyKind::kSocks5h;
  target.proxy.host = "127.0.0.1";
  target.proxy.port = proxy_port;
  (void)ExpectFailure(target, "TLS_VERIFY_FAILED");
  target.insecure = true;
  ExpectMqttRoundTrip(target);
}

TEST_F(WssConnectionTest, Socks5WrongPasswordIsProxyAuth) {
  const int proxy_port = PickFreePort();
  auto microsocks = StartMicrosocks(proxy_port, "u", "right");
  ASSERT_NE(microsocks, nullptr);
  WssTarget target = Target();
  target.proxy.kind = config::ProxyKind::kSocks5h;
  target.proxy.host = "127.0.0.1";
  target.proxy.port = proxy_port;
  target.proxy.username = "u";
  target.proxy.password = "right";
  ExpectMqttRoundTrip(target);
  target.proxy.password = "wrong-secret";
  const absl::Status status = ExpectFailure(target, "PROXY_AUTH");
  EXPECT_FALSE(absl::StrContains(status.message(), "wrong-secret"));
}

TEST_F(WssConnectionTest, Socks5RefusedTargetIsProxyFailed) {
  const int proxy_port = PickFreePort();
  auto microsocks = StartMicrosocks(proxy_port);
  ASSERT_NE(microsocks, nullptr);
  WssTarget target = Target(PickFreePort());
  target.proxy.kind = config::ProxyKind::kSocks5h;
  target.proxy.host = "127.0.0.1";
  target.proxy.port = proxy_port;
  const absl::Status status = ExpectFailure(target, "PROXY_FAILED");
  EXPECT_TRUE(absl::StrContains(status.message(), "refused")) << status;
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

TEST(ParseWssUrlTest, Forms) {
  auto url = ParseWssUrl("WSS://Cloud.example.com/mqtt?x=1");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "Cloud.example.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->path, "/mqtt?x=1");
  url = ParseWssUrl("wss://[::1]:8443");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->path, "/");
  EXPECT_EQ(ParseWssUrl(std::string("wss://evil\0.good/", 17)).status().code(),
            absl::StatusCode::kInvalidArgument);
  for (const char* bad :
       {"ws://h/mqtt", "wss://", "wss://:443/", "wss://h:0/", "wss://h:70000",
        "wss://h:12x/", "wss://u:p@h/", "wss://[::1/", "wss://h:/",
        // Found by fuzz/wss_url_fuzzer: hosts lws would read differently.
        "wss://[[x0]:3", "wss://[host]/", "wss://a b/", "wss://h[/"}) {
    EXPECT_EQ(ReasonOf(ParseWssUrl(bad).status()), "URL_INVALID") << bad;
  }
}

TEST(StatusFromLwsConnectionErrorTest, Mapping) {
  EXPECT_EQ(ReasonOf(StatusFromLwsConnectionError("proxy not h1", true)),
            "PROXY_AUTH");
  EXPECT_TRUE(absl::StrContains(
      StatusFromLwsConnectionError("proxy not h1", true).message(),
      "(proxy not h1)"));
  EXPECT_EQ(ReasonOf(StatusFromLwsConnectionError("", false)),
            "CONNECT_FAILED");
}

}  // namespace
}  // namespace cloudlink::transport
