#include "server/common/certificate_time.h"

#include <openssl/x509_vfy.h>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace cloudlink {
namespace {

TEST(CertificateTimeTest, OnlyValidityPeriodErrorsBlameTheClock) {
  EXPECT_TRUE(IsCertificateTimeError(X509_V_ERR_CERT_NOT_YET_VALID));
  EXPECT_TRUE(IsCertificateTimeError(X509_V_ERR_CERT_HAS_EXPIRED));
  EXPECT_FALSE(IsCertificateTimeError(X509_V_OK));
  EXPECT_FALSE(
      IsCertificateTimeError(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT));
  EXPECT_FALSE(IsCertificateTimeError(X509_V_ERR_HOSTNAME_MISMATCH));
}

TEST(CertificateTimeTest, AdviceShowsTheLocalTime) {
  const absl::Time now = absl::FromUnixSeconds(1796550000);
  const std::string not_yet =
      CertificateTimeAdvice(X509_V_ERR_CERT_NOT_YET_VALID, now);
  EXPECT_EQ(not_yet,
            "the certificate is not yet valid by this machine's clock (now "
            "2026-12-06T09:40:00Z): the system clock is probably wrong; set "
            "the clock (NTP, timedatectl) and run `cloudlinkctl "
            "reload-claiming-state`");
  const std::string expired =
      CertificateTimeAdvice(X509_V_ERR_CERT_HAS_EXPIRED, now);
  EXPECT_TRUE(absl::StrContains(expired, "has expired")) << expired;
  EXPECT_TRUE(absl::StrContains(expired, "really expired")) << expired;
}

}  // namespace
}  // namespace cloudlink
