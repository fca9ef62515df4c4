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
  absl::Status s = AddErrorContext(Error(absl::StatusCode::kInvalidArgument,
                                         reason::kProxyUnsupported, "no TLS"),
                                   "/etc/claim.conf:6");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "PROXY_UNSUPPORTED: /etc/claim.conf:6: no TLS");
  EXPECT_EQ(ReasonOf(s), "PROXY_UNSUPPORTED");
}

TEST(AddErrorContextTest, PlaceGoesAfterTheReasonAsWritten) {
  // CLOUD_ERROR is written with its HTTP status.
  absl::Status s = AddErrorContext(
      CloudHttpError(absl::StatusCode::kUnavailable, 503, "busy"), "there");
  EXPECT_EQ(s.message(), "CLOUD_ERROR_503: there: busy");
  EXPECT_EQ(ReasonOf(s), "CLOUD_ERROR");
  EXPECT_EQ(MetadataOf(s).at("http_status"), "503");
}

TEST(AddErrorContextTest, MessageWithoutReasonAndOk) {
  EXPECT_EQ(AddErrorContext(absl::InternalError("boom"), "here").message(),
            "here: boom");
  // Text that only looks like a reason is not one.
  EXPECT_EQ(AddErrorContext(absl::InternalError("BOOM: x"), "here").message(),
            "here: BOOM: x");
  EXPECT_TRUE(AddErrorContext(absl::OkStatus(), "here").ok());
}

}  // namespace
}  // namespace cloudlink::config
