// WssConnection through proxies: tinyproxy (HTTP CONNECT, with and without
// Basic auth) and microsocks (SOCKS5 / SOCKS5h, via the relay), against the
// test broker.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "server/config/proxy.h"
#include "server/transport/wss_connection.h"
#include "tests/server/transport/wss_test_fixture.h"
#include "tests/testing/test_env.h"

namespace cloudlink::transport {
namespace {

using ::cloudlink::testing::PickFreePort;
using wss_testing::WssConnectionTest;

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

}  // namespace
}  // namespace cloudlink::transport
