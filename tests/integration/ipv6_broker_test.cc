// A cloud whose env answer names the broker by an IPv6 literal
// (wss://[::1]:PORT/mqtt): the real cloudlinkd verifies the broker's
// certificate against that address. A certificate valid only for localhost
// and 127.0.0.1 fails with TLS_VERIFY_FAILED and the broker side receives
// nothing (no WebSocket request, so no MQTT CONNECT and no password); one
// that names ::1 gets the WebSocket request, which shows the check would
// see a CONNECT if one were sent.

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/link_test_base.h"
#include "tests/server/api/test_pki.h"
#include "tests/testing/ipv6_tls_server.h"

namespace cloudlink::integration {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// How long the fake broker waits for the daemon's connection and bytes.
constexpr absl::Duration kServerWait = absl::Seconds(30);

class Ipv6BrokerTest : public LinkTestBase {
 protected:
  // A claimed node, stopped, then restarted with the dev cloud's env answer
  // pointing the broker at [::1]:`port`.
  CloudlinkdProcess* RestartAgainstBrokerPort(int port) {
    CloudlinkdProcess* daemon = StartDaemon();
    if (daemon == nullptr) return nullptr;
    Claim(daemon, "none");
    if (WaitForStatus(daemon, "online").value("status", "") != "online") {
      return nullptr;
    }
    if (!daemon->Stop().ok()) return nullptr;
    const json env = {
        {"encoding", "proto"},
        {"authEndpoint", absl::StrCat(cloud_->url(), "/api/v1/auth")},
        {"transports",
         json::array(
             {{{"type", "MQTTv5"},
               {"endpoint", absl::StrCat("wss://[::1]:", port, "/mqtt")}}})},
        {"backoff",
         {{"base", kBackoffBase},
          {"minSeconds", kBackoffMinSeconds},
          {"maxSeconds", kBackoffMaxSeconds}}},
        {"capabilities", json::array({"proto", "ctx"})},
    };
    const absl::Status armed = cloud_->ArmFault({{"pathPrefix", "/api/v1/env"},
                                                 {"status", 200},
                                                 {"count", 100},
                                                 {"body", env}});
    if (!armed.ok()) {
      ADD_FAILURE() << armed;
      return nullptr;
    }
    if (!daemon->Restart(TrustingOptions()).ok()) return nullptr;
    return daemon;
  }
};

TEST_F(Ipv6BrokerTest, CertificateWithoutTheAddressFailsAndSendsNothing) {
  // The dev cloud's own certificate: DNS:localhost, IP:127.0.0.1.
  testing::Ipv6TlsServer server(cloud_->dir() + "/server.pem",
                                cloud_->dir() + "/server.key", kServerWait);
  ASSERT_NE(server.port(), 0);
  CloudlinkdProcess* daemon = RestartAgainstBrokerPort(server.port());
  ASSERT_NE(daemon, nullptr);

  absl::StatusOr<json> state = daemon->WaitForState(
      [](const json& s) {
        return absl::StartsWith(s.value("reason", ""), "TLS_VERIFY_FAILED");
      },
      kOnlineWait);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_THAT(state->value("reason", ""), StartsWith("TLS_VERIFY_FAILED:"))
      << state->dump(2) << Diagnostics(daemon);
  EXPECT_THAT(state->value("reason", ""), HasSubstr("::1"));
  EXPECT_EQ(state->value("status", ""), "offline");
  EXPECT_FALSE(server.handshake_done());
  EXPECT_EQ(server.Received(), "") << "bytes reached the broker";
}

TEST_F(Ipv6BrokerTest, CertificateNamingTheAddressGetsTheWebSocketRequest) {
  // A server certificate for IP:::1 from the dev cloud's own CA.
  const std::string dir = cloud_->dir();
  const testing::TestPki pki =
      testing::TestPki::Adopt(dir, "v6", {dir + "/ca.pem", dir + "/ca.key"});
  absl::StatusOr<testing::CertFiles> v6 =
      pki.IssueServerFor("server", "IP:::1");
  ASSERT_TRUE(v6.ok()) << v6.status();
  testing::Ipv6TlsServer server(v6->cert, v6->key, kServerWait);
  ASSERT_NE(server.port(), 0);
  CloudlinkdProcess* daemon = RestartAgainstBrokerPort(server.port());
  ASSERT_NE(daemon, nullptr);

  // The server takes one connection and closes after the request's headers.
  const std::string received = server.Received();
  EXPECT_TRUE(server.handshake_done()) << Diagnostics(daemon);
  EXPECT_THAT(received, StartsWith("GET /mqtt")) << Diagnostics(daemon);
}

}  // namespace
}  // namespace cloudlink::integration
