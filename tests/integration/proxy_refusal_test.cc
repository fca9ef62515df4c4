// A proxy that refuses the tunnel for policy (tinyproxy's ConnectPort: 403)
// end to end, on both paths: the claim and the cloud's HTTPS API (libcurl)
// and the MQTT link's WebSocket (libwebsockets, whose "proxy not h1" the
// transport resolves by asking the proxy again). Either way the reason is
// PROXY_REFUSED with the status and the allow-rules advice, not PROXY_AUTH's
// "check the proxy user and password".

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/link_test_base.h"

namespace cloudlink::integration {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class ProxyRefusalTest : public LinkTestBase {
 protected:
  ProxyProcess* StartProxyAllowing(int port,
                                   ProxyKind kind = ProxyKind::kTinyproxy) {
    ProxyOptions options;
    options.kind = kind;
    options.connect_ports = {port};
    auto proxy = ProxyProcess::Start(options);
    EXPECT_TRUE(proxy.ok()) << proxy.status();
    if (!proxy.ok()) return nullptr;
    proxies_.push_back(*std::move(proxy));
    return proxies_.back().get();
  }

  // Claims through `proxy_url` and waits for the link's PROXY_REFUSED;
  // returns its reason ("" with a test failure when it does not come).
  std::string LinkRefusalThrough(const std::string& proxy_url) {
    CloudlinkdProcess* daemon = StartDaemon();
    if (daemon == nullptr) return "";
    if (Claim(daemon, proxy_url).empty()) return "";
    absl::StatusOr<json> state = daemon->WaitForState(
        [](const json& s) {
          return absl::StartsWith(s.value("reason", ""), "PROXY_REFUSED:");
        },
        absl::Seconds(20));
    EXPECT_TRUE(state.ok()) << state.status();
    if (!state.ok()) return "";
    const std::string reason = state->value("reason", "");
    EXPECT_THAT(reason, StartsWith("PROXY_REFUSED:"))
        << state->dump(2) << Diagnostics(daemon);
    EXPECT_EQ(state->value("status", ""), "offline");
    return reason;
  }
};

// The proxy tunnels only to the cloud's HTTPS port: the claim, env and
// login pass, the broker's WebSocket port gets 403.
TEST_F(ProxyRefusalTest, LinkThroughAProxyRefusingTheBrokerPort) {
  ProxyProcess* proxy = StartProxyAllowing(cloud_->port());
  ASSERT_NE(proxy, nullptr);
  const std::string reason = LinkRefusalThrough(proxy->Url("http"));
  EXPECT_THAT(reason, HasSubstr(absl::StrCat(":", cloud_->Env("BROKER_PORT"),
                                             " with status 403")));
  EXPECT_THAT(reason, HasSubstr("allow rules"));
  EXPECT_THAT(reason, Not(HasSubstr("password")));
}

// The same through a SOCKS5 proxy (dante) whose rules allow only the cloud's
// HTTPS port: the link's SOCKS5 relay reads reply 2, "not allowed by
// ruleset", and says so as PROXY_REFUSED rather than PROXY_FAILED.
TEST_F(ProxyRefusalTest, LinkThroughASocks5ProxyRefusingTheBrokerPort) {
  ProxyProcess* proxy = StartProxyAllowing(cloud_->port(), ProxyKind::kDante);
  ASSERT_NE(proxy, nullptr);
  const std::string reason = LinkRefusalThrough(proxy->Url("socks5h"));
  EXPECT_THAT(reason, HasSubstr(absl::StrCat(":", cloud_->Env("BROKER_PORT"))));
  EXPECT_THAT(reason, HasSubstr("not allowed by ruleset"));
  EXPECT_THAT(reason, HasSubstr("check the proxy's rules"));
}

// The proxy tunnels to no port of the cloud: the claim itself fails.
TEST_F(ProxyRefusalTest, ClaimThroughAProxyRefusingTheCloudPort) {
  ProxyProcess* proxy = StartProxyAllowing(cloud_->port() == 1 ? 2 : 1);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const testing::RunResult result =
      daemon->Ctl({"--json", "claim", "--token", cloud_->Env("CLAIM_TOKEN"),
                   "--rooms", cloud_->Env("ROOMS"), "--url", cloud_->url(),
                   "--proxy", proxy->Url("http")});
  EXPECT_NE(result.exit_code, 0) << result.out << result.err;
  const std::string output = result.out + result.err;
  EXPECT_THAT(output, HasSubstr("PROXY_REFUSED")) << output;
  EXPECT_THAT(output, HasSubstr("with status 403")) << output;
  EXPECT_THAT(output, HasSubstr("allow rules")) << output;
  EXPECT_THAT(output, Not(HasSubstr("PROXY_AUTH"))) << output;
}

}  // namespace
}  // namespace cloudlink::integration
