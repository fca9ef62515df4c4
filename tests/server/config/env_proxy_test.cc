#include "server/config/env_proxy.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "server/common/error.h"

namespace cloudlink::config {
namespace {

constexpr char kCloud[] = "https://app.netdata.cloud";

ProxyConfig MustResolve(const Environment& env,
                        absl::string_view target = kCloud) {
  absl::StatusOr<ProxyConfig> p = ResolveEnvProxy(env, target);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : ProxyConfig{};
}

TEST(ResolveEnvProxyTest, UnsetMeansDirect) {
  EXPECT_EQ(MustResolve({}).kind, ProxyKind::kDirect);
  EXPECT_EQ(MustResolve({{"https_proxy", ""}, {"http_proxy", "  "}}).kind,
            ProxyKind::kDirect);
}

TEST(ResolveEnvProxyTest, HttpsTargetPrefersHttpsProxyThenHttpProxy) {
  ProxyConfig p = MustResolve(
      {{"https_proxy", "http://s:1"}, {"http_proxy", "http://p:2"}});
  EXPECT_EQ(p.host, "s");
  p = MustResolve(
      {{"HTTPS_PROXY", "http://S:1"}, {"http_proxy", "http://p:2"}});
  EXPECT_EQ(p.host, "S");
  p = MustResolve({{"http_proxy", "http://p:2"}});
  EXPECT_EQ(p.host, "p");
  p = MustResolve({{"HTTP_PROXY", "http://P:2"}});
  EXPECT_EQ(p.host, "P");
  p = MustResolve({{"https_proxy", "http://s:1"}}, "wss://mqtt.example/mqtt");
  EXPECT_EQ(p.host, "s");
}

TEST(ResolveEnvProxyTest, LowercaseWins) {
  ProxyConfig p = MustResolve(
      {{"https_proxy", "http://lower:1"}, {"HTTPS_PROXY", "http://UPPER:1"}});
  EXPECT_EQ(p.host, "lower");
  p = MustResolve(
      {{"http_proxy", "http://lower:1"}, {"HTTP_PROXY", "http://UPPER:1"}});
  EXPECT_EQ(p.host, "lower");
}

TEST(ResolveEnvProxyTest, HttpTargetIgnoresHttpsProxy) {
  EXPECT_EQ(MustResolve({{"https_proxy", "http://s:1"}}, "http://x").kind,
            ProxyKind::kDirect);
  EXPECT_EQ(MustResolve({{"http_proxy", "http://p:1"}}, "ws://x:81/").host,
            "p");
}

TEST(ResolveEnvProxyTest, ValueForms) {
  ProxyConfig p = MustResolve({{"https_proxy", "socks5h://u:pw@s:9"}});
  EXPECT_EQ(p.kind, ProxyKind::kSocks5h);
  EXPECT_EQ(p.password, "pw");
  p = MustResolve({{"https_proxy", "socks5://s"}});
  EXPECT_EQ(p.kind, ProxyKind::kSocks5);
  EXPECT_EQ(p.port, 1080);
  // No scheme means http://, as in curl.
  p = MustResolve({{"https_proxy", "proxy.corp:3128"}});
  EXPECT_EQ(p.kind, ProxyKind::kHttp);
  EXPECT_EQ(p.host, "proxy.corp");
  EXPECT_EQ(p.port, 3128);
}

TEST(ResolveEnvProxyTest, HttpsProxyRefusedNamingVariable) {
  absl::StatusOr<ProxyConfig> p =
      ResolveEnvProxy({{"HTTPS_PROXY", "https://u:pw-secret@p:3128"}}, kCloud);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ReasonOf(p.status()), "PROXY_UNSUPPORTED");
  EXPECT_TRUE(absl::StrContains(p.status().message(),
                                "environment variable HTTPS_PROXY"));
  EXPECT_FALSE(absl::StrContains(p.status().message(), "pw-secret"));
}

TEST(ResolveEnvProxyTest, InvalidValueNamesVariableNotPassword) {
  absl::StatusOr<ProxyConfig> p =
      ResolveEnvProxy({{"http_proxy", "http://u:pw-secret@p:99999"}}, kCloud);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ReasonOf(p.status()), "PROXY_INVALID");
  EXPECT_TRUE(absl::StrContains(p.status().message(),
                                "environment variable http_proxy"));
  EXPECT_FALSE(absl::StrContains(p.status().message(), "pw-secret"));
}

TEST(ResolveEnvProxyTest, NoProxyExemptsTarget) {
  Environment env = {{"https_proxy", "http://p:1"},
                     {"no_proxy", "localhost, .netdata.cloud"}};
  EXPECT_EQ(MustResolve(env).kind, ProxyKind::kDirect);
  EXPECT_EQ(MustResolve(env, "https://other.example").kind, ProxyKind::kHttp);
  // NO_PROXY is read when no_proxy is unset.
  EXPECT_EQ(
      MustResolve({{"https_proxy", "http://p:1"}, {"NO_PROXY", "*"}}).kind,
      ProxyKind::kDirect);
  // An exempted target ignores even an invalid proxy value.
  EXPECT_EQ(MustResolve({{"https_proxy", "https://p"}, {"no_proxy", "*"}}).kind,
            ProxyKind::kDirect);
}

TEST(ResolveEnvProxyTest, BadTarget) {
  absl::StatusOr<ProxyConfig> p = ResolveEnvProxy({}, "ftp://x");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ReasonOf(p.status()), "URL_INVALID");
  EXPECT_FALSE(ResolveEnvProxy({}, "https://").ok());
  EXPECT_FALSE(ResolveEnvProxy({}, "https://h:99999").ok());
}

TEST(ResolveProxyTest, OnlyEnvIsResolved) {
  Environment env = {{"https_proxy", "http://p:1"}};
  ProxyConfig direct;
  EXPECT_EQ(*ResolveProxy(direct, env, kCloud), direct);
  ProxyConfig socks{ProxyKind::kSocks5, "s", 1080, "", ""};
  EXPECT_EQ(*ResolveProxy(socks, env, kCloud), socks);
  ProxyConfig from_env{ProxyKind::kEnv, "", 0, "", ""};
  EXPECT_EQ(ResolveProxy(from_env, env, kCloud)->host, "p");
}

struct NoProxyCase {
  const char* no_proxy;
  const char* host;
  int port;
  bool matches;
};

class NoProxyMatchesTest : public ::testing::TestWithParam<NoProxyCase> {};

TEST_P(NoProxyMatchesTest, Matches) {
  const NoProxyCase& c = GetParam();
  EXPECT_EQ(NoProxyMatches(c.no_proxy, c.host, c.port), c.matches)
      << "no_proxy='" << c.no_proxy << "' host=" << c.host << ":" << c.port;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NoProxyMatchesTest,
    ::testing::Values(
        NoProxyCase{"", "a.example", 443, false},
        NoProxyCase{"*", "anything", 443, true},
        NoProxyCase{"example.com", "example.com", 443, true},
        NoProxyCase{"example.com", "app.example.com", 443, true},
        NoProxyCase{"example.com", "badexample.com", 443, false},
        NoProxyCase{".example.com", "example.com", 443, true},
        NoProxyCase{".example.com", "a.b.example.com", 443, true},
        NoProxyCase{"*.example.com", "a.example.com", 443, true},
        NoProxyCase{"EXAMPLE.com", "App.Example.COM", 443, true},
        NoProxyCase{"example.com.", "example.com", 443, true},
        NoProxyCase{"example.com", "example.com.", 443, true},
        NoProxyCase{"example.com:8443", "example.com", 8443, true},
        NoProxyCase{"example.com:8443", "example.com", 443, false},
        NoProxyCase{"a.org, example.com", "example.com", 443, true},
        NoProxyCase{"a.org example.com", "example.com", 443, true},
        NoProxyCase{" , a.org,,", "example.com", 443, false},
        NoProxyCase{"10.0.0.1", "10.0.0.1", 443, true},
        NoProxyCase{"10.0.0.1", "110.0.0.1", 443, false},
        NoProxyCase{"::1", "::1", 443, true},
        NoProxyCase{"[::1]", "::1", 443, true},
        NoProxyCase{"[::1]:443", "::1", 443, true},
        NoProxyCase{"[::1]:443", "::1", 80, false},
        NoProxyCase{".", "example.com", 443, false}));

TEST(ResolveEnvProxyTest, NoProxyUsesTargetPortAndIpv6Host) {
  Environment env = {{"https_proxy", "http://p:1"},
                     {"no_proxy", "cloud.example:443,[::1]:8443"}};
  EXPECT_EQ(MustResolve(env, "https://cloud.example/x").kind,
            ProxyKind::kDirect);
  EXPECT_EQ(MustResolve(env, "https://cloud.example:444").kind,
            ProxyKind::kHttp);
  EXPECT_EQ(MustResolve(env, "https://[::1]:8443/").kind, ProxyKind::kDirect);
  EXPECT_EQ(MustResolve(env, "https://[::1]/").kind, ProxyKind::kHttp);
}

}  // namespace
}  // namespace cloudlink::config
