// A clock that is wrong, end to end: the dev cloud serves a certificate
// whose validity starts two days from now (as a node whose clock is two days
// behind sees a fresh one). The claim's TLS verification (libcurl) fails
// with advice about the clock, showing the local time, instead of pointing
// at the URL, --cloud-ca or insecure.

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/link_test_base.h"
#include "tests/testing/redate_certificate.h"

namespace cloudlink::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ClockSkewTest : public LinkTestBase {
 protected:
  void SetUp() override {
    LinkTestBase::SetUp();
    if (HasFatalFailure()) return;
    const std::string dir = cloud_->dir();
    ASSERT_TRUE(cloud_->Stop().ok());
    const absl::Time now = absl::Now();
    // The dev cloud reuses it: it still matches its key and its CA.
    ASSERT_TRUE(testing::RedateCertificate(
        dir + "/server.pem", dir + "/ca.key", now + absl::Hours(48),
        now + absl::Hours(24 * 30), dir + "/server.pem"));
    DevCloudOptions options;
    options.backoff = cloud_backoff_;
    auto cloud = DevCloud::Start(dir, options);
    ASSERT_TRUE(cloud.ok()) << cloud.status();
    cloud_ = *std::move(cloud);
  }
};

TEST_F(ClockSkewTest, ANotYetValidCertificateBlamesTheClock) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const testing::RunResult result =
      daemon->Ctl({"claim", "--token", cloud_->Env("CLAIM_TOKEN"), "--rooms",
                   cloud_->Env("ROOMS"), "--url", cloud_->url()});
  EXPECT_NE(result.exit_code, 0);
  const std::string output = result.out + result.err;
  EXPECT_THAT(output, HasSubstr("TLS_VERIFY_FAILED")) << output;
  EXPECT_THAT(output, HasSubstr("is not yet valid by this machine's clock"))
      << output;
  EXPECT_THAT(output, HasSubstr("the system clock is probably wrong"))
      << output;
  // The local time, to compare with the real one.
  EXPECT_THAT(output, HasSubstr(absl::StrCat(
                          "(now ", absl::FormatTime("%Y-%m-%dT", absl::Now(),
                                                    absl::UTCTimeZone()))))
      << output;
  EXPECT_THAT(output, Not(HasSubstr("--cloud-ca"))) << output;
  EXPECT_THAT(output, Not(HasSubstr("insecure"))) << output;
}

}  // namespace
}  // namespace cloudlink::integration
