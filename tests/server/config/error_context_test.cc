#include "server/config/error_context.h"

#include <gtest/gtest.h>

#include "server/common/error.h"

namespace cloudlink::config {
namespace {

TEST(LocationTest, PathAndOptionalLine) {
  EXPECT_EQ(Location("/a/b.conf", 4), "/a/b.conf:4");
  EXPECT_EQ(Location("/a/b.conf", 0), "/a/b.conf");
}

TEST(ConfigInvalidTest, ReasonThenPlaceThenSentence) {
  absl::Status s = ConfigInvalid("/etc/c.conf", 3, "fix it");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "CONFIG_INVALID: /etc/c.conf:3: fix it");
  EXPECT_EQ(ConfigInvalid("/etc/c.conf", 0, "x").message(),
            "CONFIG_INVALID: /etc/c.conf: x");
}

TEST(AddErrorContextTest, KeepsReasonFirstAndCode) {
  absl::Status s = AddErrorContext(
      Error(absl::StatusCode::kInvalidArgument, "PROXY_UNSUPPORTED", "no TLS"),
      "/etc/claim.conf:6");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "PROXY_UNSUPPORTED: /etc/claim.conf:6: no TLS");
  EXPECT_EQ(ReasonOf(s), "PROXY_UNSUPPORTED");
}

TEST(AddErrorContextTest, MessageWithoutReasonAndOk) {
  EXPECT_EQ(AddErrorContext(absl::InternalError("boom"), "here").message(),
            "here: boom");
  EXPECT_TRUE(AddErrorContext(absl::OkStatus(), "here").ok());
}

}  // namespace
}  // namespace cloudlink::config
