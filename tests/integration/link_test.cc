// The cloud link end to end, happy paths: the real dev cloud
// (its mosquitto behind WSS), the real cloudlinkd and cloudlinkctl, and real
// proxies. A claimed node goes online directly and through every kind of
// proxy (the proxy's log proves the MQTT tunnel went through it), the cloud
// sees its UpdateAgentConnection messages, a killed daemon leaves its will
// (update_source LWT) and a stopped one says goodbye itself (AGENT), and a
// reclaim while online retires the old claim id before the new one appears.
// Faults (broker down, TLS, retry advice, DisconnectReq, bans, proxy auth)
// are in link_faults_test.cc.

#include <sys/wait.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/uuid.h"
#include "tests/integration/link_test_base.h"

namespace cloudlink::integration {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr absl::Duration kTunnelLogWait = absl::Seconds(5);

class LinkTest : public LinkTestBase {
 protected:
  // The broker's WSS port from devcloud.env (the env endpoint names it as
  // wss://localhost:BROKER_PORT/mqtt).
  int BrokerPort() {
    int port = 0;
    EXPECT_TRUE(absl::SimpleAtoi(cloud_->Env("BROKER_PORT"), &port))
        << cloud_->Env("BROKER_PORT");
    return port;
  }

  // Claims through `proxy`, waits until online and checks what every online
  // node shows; returns the claim id.
  std::string ClaimAndExpectOnline(CloudlinkdProcess* daemon,
                                   const std::string& proxy,
                                   const std::string& url = "") {
    const std::string claimed_id = Claim(daemon, proxy, url);
    const json state = WaitForStatus(daemon, "online");
    EXPECT_TRUE(state.value("online", false));
    EXPECT_EQ(state.value("mqtt_version", 0), 5);
    EXPECT_EQ(state.value("reason", "?"), "");
    EXPECT_EQ(state.value("claimed_id", ""), claimed_id);
    EXPECT_NE(StateTime(state["last_connect"]), absl::InfinitePast())
        << state.dump(2);
    return claimed_id;
  }
};

// ---- Online directly --------------------------------------------------------

TEST_F(LinkTest, GoesOnlineDirectlyAndTheCloudSeesIt) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const absl::Time before = absl::Now();

  const std::string claimed_id = ClaimAndExpectOnline(daemon, "none");
  ASSERT_FALSE(claimed_id.empty());
  const json state = *daemon->State();
  EXPECT_EQ(ReconnectCount(state), 0) << state.dump(2);
  EXPECT_GE(StateTime(state["last_connect"]), before - absl::Seconds(1));
  EXPECT_EQ(StateTime(state["last_disconnect"]), absl::InfinitePast());
  EXPECT_EQ(StateTime(state["next_attempt"]), absl::InfinitePast());

  // The cloud's side: listed online, and the node announced itself.
  EXPECT_TRUE(WaitForListedState(claimed_id, "online"));
  ASSERT_TRUE(WaitForAgentConnection(claimed_id, true, kSourceAgent));
  const std::vector<json> connections = AgentConnectionsOf(claimed_id);
  ASSERT_FALSE(connections.empty());
  const json& hello = connections.back();
  EXPECT_EQ(hello.value("claim_id", ""), claimed_id);
  EXPECT_TRUE(hello.value("reachable", false));
  // The capabilities name "proto".
  bool has_proto = false;
  for (const json& capability : hello.value("capabilities", json::array())) {
    has_proto |= capability.value("name", "") == "proto";
  }
  EXPECT_TRUE(has_proto) << hello.dump();
  // The daemon's log says so too.
  EXPECT_THAT(daemon->Stderr(), HasSubstr("LINK: online as " + claimed_id));
}

TEST_F(LinkTest, StaysOnlineAcrossADaemonRestart) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string claimed_id = ClaimAndExpectOnline(daemon, "none");
  ASSERT_FALSE(claimed_id.empty());

  // The stored claim alone brings the link up again.
  ASSERT_TRUE(daemon->Restart(TrustingOptions()).ok());
  const json state = WaitForStatus(daemon, "online");
  EXPECT_EQ(state.value("claimed_id", ""), claimed_id);
  EXPECT_TRUE(WaitForListedState(claimed_id, "online"));
}

// The node registers its node instance: CreateNodeInstance, the cloud's
// CreateNodeInstanceResult on the inbox, then UpdateNodeInstanceConnection.
// The node id is shown in GetState and aclk-state, kept in cloud.d, and
// after a restart the node goes straight to UpdateNodeInstanceConnection.
TEST_F(LinkTest, RegistersItsNodeInstanceAndKeepsTheNodeId) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string claimed_id = ClaimAndExpectOnline(daemon, "none");
  ASSERT_FALSE(claimed_id.empty());

  // The cloud's node id for this node, from its node listing.
  absl::StatusOr<json> nodes = cloud_->ListNodes(
      cloud_->Env("SPACE_ID"), cloud_->Env("ADMIN_API_TOKEN"));
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  std::string listed_node_id;
  for (const json& node : *nodes) {
    if (node.value("id", "") == claimed_id) {
      listed_node_id = node.value("nodeId", "");
    }
  }
  ASSERT_FALSE(listed_node_id.empty()) << nodes->dump(2);

  json state;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        absl::StatusOr<json> s = daemon->State();
        if (s.ok()) state = *s;
        return s.ok() && state.value("node_id", "") == listed_node_id;
      },
      absl::Seconds(10)))
      << state.dump(2) << Diagnostics(daemon);
  const testing::RunResult aclk = daemon->Ctl({"aclk-state"});
  EXPECT_THAT(aclk.out, HasSubstr("Node Id: " + listed_node_id));
  const std::string file = daemon->lib_dir() + "/cloud.d/node_id";
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return absl::StripAsciiWhitespace(testing::ReadFileOrEmpty(file)) ==
               listed_node_id;
      },
      absl::Seconds(10)))
      << testing::ReadFileOrEmpty(file);

  auto count = [&](const std::string& type) {
    absl::StatusOr<json> messages = cloud_->NodeMessages(claimed_id);
    int n = 0;
    if (messages.ok() && messages->is_array()) {
      for (const json& m : *messages) n += m.value("type", "") == type;
    }
    return n;
  };
  EXPECT_EQ(count("CreateNodeInstance"), 1);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return count("UpdateNodeInstanceConnection") == 1; },
      absl::Seconds(10)));

  // After a restart the stored node id is used: no second CreateNodeInstance.
  ASSERT_TRUE(daemon->Restart(TrustingOptions()).ok());
  WaitForStatus(daemon, "online");
  ASSERT_TRUE(testing::WaitFor(
      [&] { return count("UpdateNodeInstanceConnection") == 2; },
      absl::Seconds(10)));
  EXPECT_EQ(count("CreateNodeInstance"), 1);
  EXPECT_EQ(daemon->State()->value("node_id", ""), listed_node_id);
}

// ---- Through proxies --------------------------------------------------------

TEST_F(LinkTest, GoesOnlineThroughTinyproxy) {
  ProxyProcess* proxy = StartProxy(ProxyKind::kTinyproxy);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);

  ClaimAndExpectOnline(daemon, proxy->Url("http"));
  // The WebSocket went through the proxy, not only the claim and login.
  EXPECT_TRUE(proxy->WaitForTunnelTo("localhost", BrokerPort(), kTunnelLogWait))
      << proxy->Log();
}

// --log-level=debug tells the claim's steps, the HTTP statuses, the proxy
// and TLS steps and the MQTT packet types; the fixture's TearDown checks
// that no token or proxy password is among them.
TEST_F(LinkTest, DebugLogShowsClaimHttpProxyTlsAndMqttSteps) {
  const std::string password = NewProxyPassword();
  ProxyProcess* proxy = StartProxy(ProxyKind::kTinyproxy, "debugger", password);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdOptions options = TrustingOptions();
  options.log_level = "debug";
  CloudlinkdProcess* daemon = StartDaemon(options);
  ASSERT_NE(daemon, nullptr);
  ClaimAndExpectOnline(daemon, proxy->Url("http"));
  // "online" is reported at CONNACK; the cloud's first PUBLISH may come
  // after it, so each line is awaited (bounded), not read once.
  for (const char* line : {
           " DEBUG CLAIM: attempt 1 of ",
           " DEBUG HTTP: PUT https://",
           "/api/v1/spaces/nodes/",
           " -> 204 ",
           "(proxy http://debugger:****@127.0.0.1:",
           " DEBUG HTTP: curl: ",
           "HTTP CONNECT through http://debugger:****@",
           " DEBUG LINK: TLS certificate at depth 0 ",
           " DEBUG LINK: TLS TLSv1",
           " DEBUG MQTT: sent CONNECT ",
           " DEBUG MQTT: received CONNACK (reason 0x00",
           " DEBUG MQTT: received PUBLISH (qos 1",
       }) {
    EXPECT_TRUE(testing::WaitFor(
        [&] { return absl::StrContains(daemon->Stderr(), line); },
        absl::Seconds(10)))
        << "missing: " << line << "\n"
        << Diagnostics(daemon);
  }
}

TEST_F(LinkTest, GoesOnlineThroughTinyproxyWithBasicAuth) {
  const std::string password = NewProxyPassword();
  ProxyProcess* proxy = StartProxy(ProxyKind::kTinyproxy, "linker", password);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);

  ClaimAndExpectOnline(daemon, proxy->Url("http"));
  EXPECT_TRUE(proxy->WaitForTunnelTo("localhost", BrokerPort(), kTunnelLogWait))
      << proxy->Log();
  const json state = *daemon->State();
  EXPECT_EQ(state.value("proxy", ""),
            absl::StrCat("http://linker:****@127.0.0.1:", proxy->port()));
}

TEST_F(LinkTest, GoesOnlineThroughTheProxyFromTheEnvironment) {
  const std::string password = NewProxyPassword();
  ProxyProcess* proxy = StartProxy(ProxyKind::kTinyproxy, "envuser", password);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdOptions options = TrustingOptions();
  // Only http_proxy: for wss:// targets it is the fallback after
  // https_proxy, as in curl.
  options.env["http_proxy"] = proxy->Url("http");
  CloudlinkdProcess* daemon = StartDaemon(std::move(options));
  ASSERT_NE(daemon, nullptr);

  ClaimAndExpectOnline(daemon, "env");
  EXPECT_TRUE(proxy->WaitForTunnelTo("localhost", BrokerPort(), kTunnelLogWait))
      << proxy->Log();
}

struct SocksCase {
  ProxyKind kind;
  const char* scheme;  // socks5 (the node resolves) or socks5h (the proxy)
};

class LinkThroughSocksTest : public LinkTest,
                             public ::testing::WithParamInterface<SocksCase> {};

TEST_P(LinkThroughSocksTest, GoesOnline) {
  const SocksCase param = GetParam();
  ProxyProcess* proxy = StartProxy(param.kind);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const bool proxy_resolves = std::string(param.scheme) == "socks5h";

  ClaimAndExpectOnline(daemon, proxy->Url(param.scheme));
  // The broker is named "localhost" by the env endpoint: with socks5 the
  // node sends 127.0.0.1, with socks5h the name. microsocks logs what it
  // was given, dante the address it connected to.
  const std::string logged_host =
      proxy_resolves && param.kind == ProxyKind::kMicrosocks ? "localhost"
                                                             : "127.0.0.1";
  EXPECT_TRUE(proxy->WaitForTunnelTo(logged_host, BrokerPort(), kTunnelLogWait))
      << proxy->Log();
}

INSTANTIATE_TEST_SUITE_P(
    Proxies, LinkThroughSocksTest,
    ::testing::Values(SocksCase{ProxyKind::kMicrosocks, "socks5"},
                      SocksCase{ProxyKind::kMicrosocks, "socks5h"},
                      SocksCase{ProxyKind::kDante, "socks5"},
                      SocksCase{ProxyKind::kDante, "socks5h"}),
    [](const ::testing::TestParamInfo<SocksCase>& info) {
      return absl::StrCat(ProxyKindName(info.param.kind), "_",
                          info.param.scheme);
    });

TEST_F(LinkTest, GoesOnlineThroughMicrosocksWithCredentials) {
  const std::string password = NewProxyPassword();
  ProxyProcess* proxy = StartProxy(ProxyKind::kMicrosocks, "sockser", password);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);

  ClaimAndExpectOnline(daemon, proxy->Url("socks5h"));
  EXPECT_TRUE(proxy->WaitForTunnelTo("localhost", BrokerPort(), kTunnelLogWait))
      << proxy->Log();
}

// ---- Leaving: the will and the goodbye --------------------------------------

TEST_F(LinkTest, KilledDaemonLeavesItsWill) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string claimed_id = ClaimAndExpectOnline(daemon, "none");
  ASSERT_TRUE(WaitForAgentConnection(claimed_id, true, kSourceAgent));

  ASSERT_TRUE(daemon->Kill().ok());

  // The broker publishes the will: reachable=false from the LWT, and the
  // cloud marks the node offline.
  EXPECT_TRUE(WaitForAgentConnection(claimed_id, false, kSourceLwt))
      << json(AgentConnectionsOf(claimed_id)).dump();
  EXPECT_TRUE(WaitForListedState(claimed_id, "offline"));
  const std::vector<json> connections = AgentConnectionsOf(claimed_id);
  ASSERT_FALSE(connections.empty());
  const json& will = connections.back();
  EXPECT_EQ(will.value("claim_id", ""), claimed_id);
  EXPECT_EQ(will.value("update_source", ""), kSourceLwt);
  // The will names the session it belongs to (the one that said hello).
  EXPECT_EQ(will.value("session_id", ""),
            connections.front().value("session_id", "?"));
  // No goodbye of its own: a killed process cannot say one.
  EXPECT_FALSE(HasAgentConnection(connections, false, kSourceAgent));
}

TEST_F(LinkTest, GracefulStopSaysGoodbyeWithoutTheWill) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string claimed_id = ClaimAndExpectOnline(daemon, "none");
  ASSERT_TRUE(WaitForAgentConnection(claimed_id, true, kSourceAgent));

  absl::StatusOr<int> stopped = daemon->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0)
      << "wait status " << *stopped << Diagnostics(daemon);

  EXPECT_TRUE(WaitForAgentConnection(claimed_id, false, kSourceAgent))
      << json(AgentConnectionsOf(claimed_id)).dump();
  EXPECT_TRUE(WaitForListedState(claimed_id, "offline"));
  // A clean MQTT DISCONNECT discards the will: none may follow (bounded
  // look, not a synchronisation).
  EXPECT_FALSE(
      WaitForAgentConnection(claimed_id, false, kSourceLwt, absl::Seconds(2)))
      << json(AgentConnectionsOf(claimed_id)).dump();
  EXPECT_THAT(daemon->Stderr(), HasSubstr("LINK: leaving"));
}

// ---- Reclaim while online ---------------------------------------------------

TEST_F(LinkTest, ReclaimWhileOnlineRetiresTheOldClaimId) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string old_id = ClaimAndExpectOnline(daemon, "none");
  ASSERT_TRUE(WaitForAgentConnection(old_id, true, kSourceAgent));

  const testing::RunResult result = daemon->Ctl(
      {"--json", "reclaim", "--token", cloud_->Env("CLAIM_TOKEN_B"), "--rooms",
       cloud_->Env("ROOMS_B"), "--url", cloud_->url(), "--proxy", "none"});
  ASSERT_EQ(result.exit_code, 0) << result.err << Diagnostics(daemon);
  const json answer = json::parse(result.out, nullptr, false);
  ASSERT_TRUE(answer.is_object()) << result.out;
  const std::string new_id = answer.value("claimed_id", "");
  ASSERT_TRUE(IsUuid(new_id)) << result.out;
  ASSERT_NE(new_id, old_id);

  // The old claim id said goodbye itself (not through its will)...
  EXPECT_TRUE(WaitForAgentConnection(old_id, false, kSourceAgent))
      << json(AgentConnectionsOf(old_id)).dump();
  // ...and the new one is online, in Space B.
  const json state = WaitForStatus(daemon, "online");
  EXPECT_EQ(state.value("claimed_id", ""), new_id);
  EXPECT_TRUE(WaitForAgentConnection(new_id, true, kSourceAgent));
  EXPECT_TRUE(WaitForListedState(new_id, "online", cloud_->Env("SPACE_B_ID")));
  // The goodbye under the old id came before the hello under the new one
  // (both stamped by the node).
  const std::vector<json> old_connections = AgentConnectionsOf(old_id);
  const std::vector<json> new_connections = AgentConnectionsOf(new_id);
  ASSERT_FALSE(old_connections.empty());
  ASSERT_FALSE(new_connections.empty());
  const json& goodbye = old_connections.back();
  const json& hello = new_connections.front();
  EXPECT_FALSE(goodbye.value("reachable", true));
  EXPECT_EQ(goodbye.value("claim_id", ""), old_id);
  EXPECT_EQ(hello.value("claim_id", ""), new_id);
  EXPECT_TRUE(hello.value("reachable", false));
  EXPECT_LE(StateTime(goodbye["updated_at"]), StateTime(hello["updated_at"]))
      << goodbye.dump() << " / " << hello.dump();
}

}  // namespace
}  // namespace cloudlink::integration
