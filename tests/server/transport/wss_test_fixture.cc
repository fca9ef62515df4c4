#include "tests/server/transport/wss_test_fixture.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/types/variant.h"
#include "server/common/error.h"
#include "server/transport/lws_wss_connection.h"

namespace cloudlink::transport::wss_testing {
namespace {

using ::cloudlink::testing::PickFreePort;
using ::cloudlink::testing::Run;
using ::cloudlink::testing::Subprocess;
using ::cloudlink::testing::SubprocessOptions;
using ::cloudlink::testing::TempDir;
using ::cloudlink::testing::WaitFor;
using ::cloudlink::testing::WriteFile;

void RunOrDie(std::vector<std::string> argv) {
  SubprocessOptions options;
  options.argv = std::move(argv);
  auto result = Run(options, absl::Seconds(30));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->exit_code, 0) << options.argv[0] << ": " << result->err;
}

}  // namespace

bool ServiceUntil(WssConnection& connection, const std::function<bool()>& done,
                  absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    connection.Service(absl::Milliseconds(50));
  }
  return true;
}

std::string MqttConnectBytes(const std::string& client_id) {
  mqtt::MqttConnect connect;
  connect.client_id = client_id;
  connect.keep_alive_seconds = 60;
  std::string out;
  EXPECT_TRUE(mqtt::EncodeConnect(connect, &out).ok());
  return out;
}

bool ConnectAndSubscribe(WssConnection& connection, RecordingListener& listener,
                         const std::string& topic,
                         const std::string& client_id) {
  if (!ServiceUntil(connection, [&] { return listener.opens > 0; })) {
    return false;
  }
  std::string out = MqttConnectBytes(client_id);
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

TempDir* WssConnectionTest::dir_ = nullptr;
Subprocess* WssConnectionTest::mosquitto_ = nullptr;
int WssConnectionTest::port_ = 0;
int WssConnectionTest::other_name_port_ = 0;

void WssConnectionTest::SetUpTestSuite() {
  dir_ = new TempDir();
  const std::string d = dir_->path();
  // A CA, a server certificate for localhost / 127.0.0.1, a second server
  // certificate for another name, and an unrelated CA.
  const std::vector<std::string> ec = {
      "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  auto req_x509 = [&](const std::string& name, const std::string& cn) {
    std::vector<std::string> argv = {"/usr/bin/openssl", "req", "-x509"};
    argv.insert(argv.end(), ec.begin(), ec.end());
    argv.insert(argv.end(),
                {"-keyout", d + "/" + name + ".key", "-out",
                 d + "/" + name + ".pem", "-days", "2", "-subj", "/CN=" + cn});
    RunOrDie(argv);
  };
  auto server_cert = [&](const std::string& name, const std::string& san) {
    std::vector<std::string> argv = {"/usr/bin/openssl", "req"};
    argv.insert(argv.end(), ec.begin(), ec.end());
    argv.insert(argv.end(), {"-keyout", d + "/" + name + ".key", "-out",
                             d + "/" + name + ".csr", "-subj", "/CN=server"});
    RunOrDie(argv);
    ASSERT_TRUE(
        WriteFile(d + "/" + name + ".ext", "subjectAltName=" + san +
                                               "\nbasicConstraints=CA:FALSE\n"
                                               "extendedKeyUsage=serverAuth\n")
            .ok());
    RunOrDie({"/usr/bin/openssl", "x509", "-req", "-in",
              d + "/" + name + ".csr", "-CA", d + "/ca.pem", "-CAkey",
              d + "/ca.key", "-CAcreateserial", "-out", d + "/" + name + ".pem",
              "-days", "2", "-extfile", d + "/" + name + ".ext"});
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

void WssConnectionTest::TearDownTestSuite() {
  delete mosquitto_;
  mosquitto_ = nullptr;
  delete dir_;
  dir_ = nullptr;
}

WssTarget WssConnectionTest::Target(int port) {
  WssTarget target;
  target.url =
      absl::StrCat("wss://localhost:", port == 0 ? port_ : port, "/mqtt");
  target.ca_file = Path("ca.pem");
  return target;
}

void WssConnectionTest::ExpectMqttRoundTrip(const WssTarget& target) {
  RecordingListener listener;
  auto connection = LwsWssConnector().Connect(target, &listener);
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(ServiceUntil(
      **connection, [&] { return listener.opens > 0 || listener.closes > 0; }));
  ASSERT_EQ(listener.opens, 1) << listener.closed_with;
  (*connection)->Send(MqttConnectBytes());
  EXPECT_TRUE(ServiceUntil(**connection, [&] {
    return listener.GotConnack() || listener.closes > 0;
  }));
  EXPECT_TRUE(listener.GotConnack()) << listener.closed_with;
  (*connection)->Close();
  EXPECT_TRUE(ServiceUntil(**connection, [&] { return listener.closes > 0; }));
  EXPECT_EQ(listener.closes, 1);
  EXPECT_TRUE(listener.closed_with.ok()) << listener.closed_with;
}

absl::Status WssConnectionTest::ExpectFailure(const WssTarget& target,
                                              const std::string& reason) {
  RecordingListener listener;
  auto connection = LwsWssConnector().Connect(target, &listener);
  EXPECT_TRUE(connection.ok()) << connection.status();
  if (!connection.ok()) return connection.status();
  EXPECT_TRUE(ServiceUntil(**connection, [&] { return listener.closes > 0; }));
  EXPECT_EQ(listener.opens, 0);
  EXPECT_EQ(listener.closes, 1);
  EXPECT_EQ(listener.closed_with.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(listener.closed_with), reason) << listener.closed_with;
  return listener.closed_with;
}

std::unique_ptr<Subprocess> WssConnectionTest::StartTinyproxy(
    int proxy_port, const std::string& auth_line) {
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

std::unique_ptr<Subprocess> WssConnectionTest::StartMicrosocks(
    int proxy_port, const std::string& user, const std::string& pass) {
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

}  // namespace cloudlink::transport::wss_testing
