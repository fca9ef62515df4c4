#include "server/transport/lws_connection_error.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "server/common/error.h"

namespace cloudlink::transport {
namespace {

TEST(StatusFromLwsConnectionErrorTest, Mapping) {
  EXPECT_EQ(ReasonOf(StatusFromLwsConnectionError("proxy not h1", true)),
            "PROXY_AUTH");
  EXPECT_TRUE(absl::StrContains(
      StatusFromLwsConnectionError("proxy not h1", true).message(),
      "(proxy not h1)"));
  EXPECT_EQ(ReasonOf(StatusFromLwsConnectionError("", false)),
            "CONNECT_FAILED");
}

}  // namespace
}  // namespace cloudlink::transport
