#include "server/config/proxy.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "server/common/error.h"

namespace cloudlink::config {
namespace {

ProxyConfig Proxy(ProxyKind kind, std::string host, int port,
                  std::string user = "", std::string pass = "") {
  ProxyConfig p;
  p.kind = kind;
  p.host = std::move(host);
  p.port = port;
  p.username = std::move(user);
  p.password = std::move(pass);
  return p;
}

struct Accepted {
  const char* value;
  ProxyConfig expected;
};

class ParseProxyAcceptedTest : public ::testing::TestWithParam<Accepted> {};

TEST_P(ParseProxyAcceptedTest, Parses) {
  absl::StatusOr<ProxyConfig> p = ParseProxy(GetParam().value);
  ASSERT_TRUE(p.ok()) << GetParam().value << ": " << p.status();
  EXPECT_EQ(*p, GetParam().expected) << GetParam().value;
  // ToUrl() gives a value that parses back to the same config.
  absl::StatusOr<ProxyConfig> again = ParseProxy(p->ToUrl());
  ASSERT_TRUE(again.ok()) << p->ToUrl();
  EXPECT_EQ(*again, *p) << p->ToUrl();
}

INSTANTIATE_TEST_SUITE_P(
    Forms, ParseProxyAcceptedTest,
    ::testing::Values(
        Accepted{"", ProxyConfig{}}, Accepted{"none", ProxyConfig{}},
        Accepted{" NONE ", ProxyConfig{}},
        Accepted{"env", Proxy(ProxyKind::kEnv, "", 0)},
        Accepted{"Env", Proxy(ProxyKind::kEnv, "", 0)},
        Accepted{"http://proxy", Proxy(ProxyKind::kHttp, "proxy", 8080)},
        Accepted{"HTTP://proxy:3128/", Proxy(ProxyKind::kHttp, "proxy", 3128)},
        Accepted{"http://bob:s3cret@myproxy:8080",
                 Proxy(ProxyKind::kHttp, "myproxy", 8080, "bob", "s3cret")},
        Accepted{"http://bob@myproxy",
                 Proxy(ProxyKind::kHttp, "myproxy", 8080, "bob")},
        Accepted{"http://b%40b:p%3Aw%2Fd%25@h:1",
                 Proxy(ProxyKind::kHttp, "h", 1, "b@b", "p:w/d%")},
        // Unencoded '@', '/' and '#' in a password: credentials end at the
        // last '@'.
        Accepted{"http://u:a@b/c#d@h:2",
                 Proxy(ProxyKind::kHttp, "h", 2, "u", "a@b/c#d")},
        Accepted{"socks5://s.example",
                 Proxy(ProxyKind::kSocks5, "s.example", 1080)},
        Accepted{"socks5://u:p@10.0.0.1:9050",
                 Proxy(ProxyKind::kSocks5, "10.0.0.1", 9050, "u", "p")},
        Accepted{"socks5h://s.example",
                 Proxy(ProxyKind::kSocks5h, "s.example", 1080)},
        Accepted{"http://[::1]:3128", Proxy(ProxyKind::kHttp, "::1", 3128)},
        Accepted{"socks5h://[fe80::1]",
                 Proxy(ProxyKind::kSocks5h, "fe80::1", 1080)},
        Accepted{"http://p:65535", Proxy(ProxyKind::kHttp, "p", 65535)}));

struct Refused {
  const char* value;
  const char* reason;
  const char* message_part;
};

class ParseProxyRefusedTest : public ::testing::TestWithParam<Refused> {};

TEST_P(ParseProxyRefusedTest, RefusedWithReason) {
  absl::StatusOr<ProxyConfig> p = ParseProxy(GetParam().value);
  ASSERT_FALSE(p.ok()) << GetParam().value;
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(p.status()), GetParam().reason) << p.status();
  EXPECT_TRUE(absl::StrContains(p.status().message(), GetParam().message_part))
      << p.status();
  // No password (all test passwords contain "pw") is ever echoed.
  EXPECT_FALSE(absl::StrContains(p.status().message(), "pw")) << p.status();
}

INSTANTIATE_TEST_SUITE_P(
    Forms, ParseProxyRefusedTest,
    ::testing::Values(
        Refused{"https://proxy:3128", "PROXY_UNSUPPORTED",
                "TLS to the proxy is not supported; use http://"},
        Refused{"HTTPS://u:pw@proxy", "PROXY_UNSUPPORTED", "use http://"},
        Refused{"socks4://proxy", "PROXY_INVALID",
                "unknown proxy scheme 'socks4'"},
        Refused{"ftp://u:pw@proxy", "PROXY_INVALID", "unknown proxy scheme"},
        Refused{"proxy:3128", "PROXY_INVALID", "'none', 'env' or a URL"},
        Refused{"yes", "PROXY_INVALID", "'none', 'env' or a URL"},
        Refused{"http://", "PROXY_INVALID", "host is empty"},
        Refused{"http://u:pw@", "PROXY_INVALID", "host is empty"},
        Refused{"http://u:pw@:3128", "PROXY_INVALID", "host is empty"},
        Refused{"http://u:pw@proxy:0", "PROXY_INVALID",
                "port '0' is not a number from 1 to 65535"},
        Refused{"http://u:pw@proxy:65536", "PROXY_INVALID", "'65536'"},
        Refused{"http://u:pw@proxy:80a", "PROXY_INVALID", "'80a'"},
        Refused{"http://u:pw@proxy:", "PROXY_INVALID", "port ''"},
        Refused{"http://u:pw@proxy:-1", "PROXY_INVALID", "port"},
        Refused{"http://u:pw@::1:3128", "PROXY_INVALID", "in brackets"},
        Refused{"http://u:pw@[::1", "PROXY_INVALID", "no closing ']'"},
        Refused{"http://u:pw@[::1]x", "PROXY_INVALID", "unexpected text"},
        Refused{"http://u:pw@[zz]:1", "PROXY_INVALID", "not an IPv6 address"},
        Refused{"http://u:pw@pro xy", "PROXY_INVALID", "has characters"},
        Refused{"http://u:pw@proxy/path", "PROXY_INVALID", "remove the path"},
        Refused{"http://u:p%zzw@proxy", "PROXY_INVALID", "%-escape"},
        Refused{"http://:pw@proxy", "PROXY_INVALID", "no user name"},
        // Control characters, raw or %-escaped, anywhere.
        Refused{"socks5h://us%01er:pw@proxy:1080", "PROXY_INVALID",
                "control character"},
        Refused{"http://user:p%0Aw@proxy", "PROXY_INVALID",
                "control character"},
        Refused{"http://user%7F:pw@proxy", "PROXY_INVALID",
                "control character"},
        Refused{"http://us\x01er:pw@proxy", "PROXY_INVALID",
                "control character"},
        Refused{"http://proxy\r\nX: y:3128", "PROXY_INVALID",
                "control character"}));

TEST(ProxyConfigTest, ToUrlEncodesAndBrackets) {
  EXPECT_EQ(ProxyConfig{}.ToUrl(), "");
  EXPECT_EQ(Proxy(ProxyKind::kEnv, "", 0).ToUrl(), "env");
  EXPECT_EQ(Proxy(ProxyKind::kHttp, "p", 8080).ToUrl(), "http://p:8080");
  EXPECT_EQ(Proxy(ProxyKind::kSocks5h, "::1", 1080, "a b", "p@ss:").ToUrl(),
            "socks5h://a%20b:p%40ss%3A@[::1]:1080");
  EXPECT_EQ(Proxy(ProxyKind::kSocks5, "h", 1, "u").ToUrl(), "socks5://u@h:1");
}

TEST(ProxyConfigTest, RedactedHidesPasswordOnly) {
  EXPECT_EQ(ProxyConfig{}.Redacted(), "none");
  EXPECT_EQ(Proxy(ProxyKind::kEnv, "", 0).Redacted(), "env");
  EXPECT_EQ(Proxy(ProxyKind::kHttp, "proxy", 3128, "bob", "s3cret").Redacted(),
            "http://bob:****@proxy:3128");
  // A user name without a password is marked like one with a password
  // (RedactUrlCredentials), so the output does not tell them apart.
  EXPECT_EQ(Proxy(ProxyKind::kHttp, "proxy", 3128, "bob").Redacted(),
            "http://bob:****@proxy:3128");
  // Percent-encoded user info: the password's '@' cannot move the cut.
  EXPECT_EQ(Proxy(ProxyKind::kHttp, "proxy", 3128, "b@b", "p@ss").Redacted(),
            "http://b%40b:****@proxy:3128");
  EXPECT_EQ(Proxy(ProxyKind::kSocks5, "::1", 1080, "u", "x").Redacted(),
            "socks5://u:****@[::1]:1080");
  EXPECT_EQ(Proxy(ProxyKind::kHttp, "p", 1, "", "secret").Redacted(),
            "http://:****@p:1");
}

TEST(ProxyKindNameTest, Names) {
  EXPECT_STREQ(ProxyKindName(ProxyKind::kDirect), "direct");
  EXPECT_STREQ(ProxyKindName(ProxyKind::kSocks5h), "socks5h");
}

}  // namespace
}  // namespace cloudlink::config
