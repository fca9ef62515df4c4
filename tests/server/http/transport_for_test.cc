#include "server/http/transport_for.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "server/common/error.h"
#include "server/config/proxy.h"

namespace cloudlink::http {
namespace {

using config::ProxyKind;

constexpr char kCloud[] = "https://app.netdata.cloud";

TEST(TransportForTest, ExplicitProxyWithTheNodesTlsSettings) {
  absl::StatusOr<TransportOptions> t = TransportFor(
      "http://bob:s3cret@proxy:3128", {}, kCloud, true, "/etc/ca.pem");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->proxy.kind, ProxyKind::kHttp);
  EXPECT_EQ(t->proxy.host, "proxy");
  EXPECT_EQ(t->proxy.port, 3128);
  EXPECT_EQ(t->proxy.username, "bob");
  EXPECT_EQ(t->proxy.password, "s3cret");
  EXPECT_TRUE(t->insecure);
  EXPECT_EQ(t->ca_file, "/etc/ca.pem");
  const TransportOptions defaults;
  EXPECT_EQ(t->connect_timeout, defaults.connect_timeout);
  EXPECT_EQ(t->total_timeout, defaults.total_timeout);
}

TEST(TransportForTest, NoneAndEmptyAreDirect) {
  for (const char* setting : {"", "none"}) {
    absl::StatusOr<TransportOptions> t =
        TransportFor(setting, {{"https_proxy", "http://p:1"}}, kCloud, false,
                     "");
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->proxy.kind, ProxyKind::kDirect) << setting;
    EXPECT_FALSE(t->insecure);
    EXPECT_EQ(t->ca_file, "");
  }
}

// "env" is resolved for the request's URL from the given environment, never
// left for the client to read.
TEST(TransportForTest, EnvIsResolvedForTheUrl) {
  const config::Environment env = {{"https_proxy", "socks5h://s:9"},
                                   {"http_proxy", "http://p:2"}};
  absl::StatusOr<TransportOptions> https =
      TransportFor("env", env, kCloud, false, "");
  ASSERT_TRUE(https.ok()) << https.status();
  EXPECT_EQ(https->proxy.kind, ProxyKind::kSocks5h);
  EXPECT_EQ(https->proxy.host, "s");
  absl::StatusOr<TransportOptions> http =
      TransportFor("env", env, "http://cloud.example", false, "");
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->proxy.kind, ProxyKind::kHttp);
  EXPECT_EQ(http->proxy.host, "p");
  absl::StatusOr<TransportOptions> none =
      TransportFor("env", {}, kCloud, false, "");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->proxy.kind, ProxyKind::kDirect);
}

TEST(TransportForTest, BadSettingsAreRefusedWithoutThePassword) {
  absl::StatusOr<TransportOptions> bad =
      TransportFor("ftp://u:hunter2@p:1", {}, kCloud, false, "");
  EXPECT_EQ(ReasonOf(bad.status()), "PROXY_INVALID");
  EXPECT_FALSE(absl::StrContains(bad.status().message(), "hunter2"));
  EXPECT_EQ(ReasonOf(TransportFor("https://p:1", {}, kCloud, false, "")
                         .status()),
            "PROXY_UNSUPPORTED");
  EXPECT_EQ(ReasonOf(TransportFor("env", {{"https_proxy", "https://p:1"}},
                                  kCloud, false, "")
                         .status()),
            "PROXY_UNSUPPORTED");
  EXPECT_EQ(ReasonOf(TransportFor("env", {}, "not a url", false, "").status()),
            "URL_INVALID");
}

}  // namespace
}  // namespace cloudlink::http
