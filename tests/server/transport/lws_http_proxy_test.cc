#include "server/transport/lws_http_proxy.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "server/common/error.h"

namespace cloudlink::transport {
namespace {

config::ProxyConfig Proxy(config::ProxyKind kind, const std::string& host = "",
                          int port = 0, const std::string& user = "",
                          const std::string& password = "") {
  config::ProxyConfig proxy;
  proxy.kind = kind;
  proxy.host = host;
  proxy.port = port;
  proxy.username = user;
  proxy.password = password;
  return proxy;
}

TEST(LwsHttpProxyAddressTest, HttpProxyWithAndWithoutCredentials) {
  absl::StatusOr<std::string> plain =
      LwsHttpProxyAddress(Proxy(config::ProxyKind::kHttp, "proxy", 3128));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(*plain, "proxy:3128");
  absl::StatusOr<std::string> auth = LwsHttpProxyAddress(
      Proxy(config::ProxyKind::kHttp, "proxy", 3128, "bob", "p@ss"));
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(*auth, "bob:p@ss@proxy:3128");
}

// Every other kind is an explicit "no HTTP proxy", so lws never reads
// http_proxy from the environment (SOCKS5 goes through our relay).
TEST(LwsHttpProxyAddressTest, OtherKindsAreExplicitlyNoProxy) {
  for (config::ProxyKind kind :
       {config::ProxyKind::kDirect, config::ProxyKind::kSocks5,
        config::ProxyKind::kSocks5h}) {
    absl::StatusOr<std::string> address =
        LwsHttpProxyAddress(Proxy(kind, "socks", 1080, "u", "secret"));
    ASSERT_TRUE(address.ok()) << address.status();
    EXPECT_EQ(*address, ":0") << config::ProxyKindName(kind);
  }
}

TEST(LwsHttpProxyAddressTest, WhatLwsCannotCarryIsRefused) {
  EXPECT_EQ(
      ReasonOf(LwsHttpProxyAddress(Proxy(config::ProxyKind::kEnv)).status()),
      "URL_INVALID");
  EXPECT_EQ(
      ReasonOf(LwsHttpProxyAddress(Proxy(config::ProxyKind::kHttp, "::1", 3128))
                   .status()),
      "PROXY_UNSUPPORTED");
  // 95 bytes of "user:password" fit; 96 do not, and the error does not
  // quote the password.
  const std::string fits(95 - 2, 'p');
  EXPECT_TRUE(LwsHttpProxyAddress(
                  Proxy(config::ProxyKind::kHttp, "proxy", 1, "u", fits))
                  .ok());
  const std::string too_long(95 - 1, 'q');
  absl::StatusOr<std::string> refused = LwsHttpProxyAddress(
      Proxy(config::ProxyKind::kHttp, "proxy", 1, "u", too_long));
  EXPECT_EQ(ReasonOf(refused.status()), "PROXY_UNSUPPORTED");
  EXPECT_FALSE(absl::StrContains(refused.status().message(), "qqq"));
}

}  // namespace
}  // namespace cloudlink::transport
