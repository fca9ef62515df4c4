// --http-listen values: loopback by default, anything else only when asked.

#include "server/web/listen_address.h"

#include "gtest/gtest.h"

namespace cloudlink::web {
namespace {

TEST(ListenAddressTest, TheDefaultIsLoopback) {
  auto a = ParseListenAddress(kDefaultHttpListen, false);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_TRUE(a->loopback);
  EXPECT_NE(a->port, 19999);  // the Netdata Agent's
}

TEST(ListenAddressTest, LoopbackForms) {
  auto v6 = ParseListenAddress("[::1]:8080", false);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  auto name = ParseListenAddress("localhost:0", false);
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host, "127.0.0.1");
  EXPECT_TRUE(ParseListenAddress("127.0.0.2:1", false).ok());
}

TEST(ListenAddressTest, NonLoopbackNeedsAllowRemote) {
  for (const char* text : {"0.0.0.0:19990", "192.168.1.2:80", "[::]:1"}) {
    auto refused = ParseListenAddress(text, false);
    EXPECT_FALSE(refused.ok()) << text;
    EXPECT_NE(refused.status().message().find("--http-allow-remote"),
              std::string::npos);
    auto allowed = ParseListenAddress(text, true);
    ASSERT_TRUE(allowed.ok()) << text;
    EXPECT_FALSE(allowed->loopback);
  }
}

TEST(ListenAddressTest, Malformed) {
  for (const char* text :
       {"", "127.0.0.1", ":80", "127.0.0.1:x", "127.0.0.1:70000",
        "host.example:80", "[::1:80", "1.2.3:80"}) {
    EXPECT_FALSE(ParseListenAddress(text, true).ok()) << text;
  }
}

}  // namespace
}  // namespace cloudlink::web
