#include "server/transport/wss_url.h"

#include <string>

#include "gtest/gtest.h"
#include "server/common/error.h"

namespace cloudlink::transport {
namespace {

TEST(ParseWssUrlTest, Forms) {
  auto url = ParseWssUrl("WSS://Cloud.example.com/mqtt?x=1");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "Cloud.example.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->path, "/mqtt?x=1");
  url = ParseWssUrl("wss://[::1]:8443");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->path, "/");
  EXPECT_EQ(ParseWssUrl(std::string("wss://evil\0.good/", 17)).status().code(),
            absl::StatusCode::kInvalidArgument);
  for (const char* bad :
       {"ws://h/mqtt", "wss://", "wss://:443/", "wss://h:0/", "wss://h:70000",
        "wss://h:12x/", "wss://u:p@h/", "wss://[::1/", "wss://h:/",
        // Found by fuzz/wss_url_fuzzer: hosts lws would read differently.
        "wss://[[x0]:3", "wss://[host]/", "wss://a b/", "wss://h[/"}) {
    EXPECT_EQ(ReasonOf(ParseWssUrl(bad).status()), "URL_INVALID") << bad;
  }
}

}  // namespace
}  // namespace cloudlink::transport
