// A clock that is wrong, end to end: the dev cloud serves a certificate
// whose validity starts two days from now (as a node whose clock is two days
// behind sees a fresh one). The claim's TLS verification (libcurl) fails
// with advice about the clock, showing the local time, instead of pointing
// at the URL, --cloud-ca or insecure.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/link_test_base.h"

namespace cloudlink::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct FileCloser {
  void operator()(FILE* f) const { fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

// Re-issues the certificate at `cert_path` (same key and names) valid from
// `not_before` to `not_after`, signed again with the CA key at
// `ca_key_path`. The dev cloud reuses it: it still matches its key and CA.
bool Redate(const std::string& cert_path, const std::string& ca_key_path,
            absl::Time not_before, absl::Time not_after) {
  FilePtr in(fopen(cert_path.c_str(), "r"));
  FilePtr key_in(fopen(ca_key_path.c_str(), "r"));
  if (!in || !key_in) return false;
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_X509(in.get(), nullptr, nullptr, nullptr), X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ca_key(
      PEM_read_PrivateKey(key_in.get(), nullptr, nullptr, nullptr),
      EVP_PKEY_free);
  if (!cert || !ca_key) return false;
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()),
                    absl::ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(not_after)) ==
          nullptr ||
      X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) {
    return false;
  }
  FilePtr out(fopen(cert_path.c_str(), "w"));
  return out && PEM_write_X509(out.get(), cert.get()) == 1;
}

class ClockSkewTest : public LinkTestBase {
 protected:
  void SetUp() override {
    LinkTestBase::SetUp();
    if (HasFatalFailure()) return;
    const std::string dir = cloud_->dir();
    ASSERT_TRUE(cloud_->Stop().ok());
    const absl::Time now = absl::Now();
    ASSERT_TRUE(Redate(dir + "/server.pem", dir + "/ca.key",
                       now + absl::Hours(48), now + absl::Hours(24 * 30)));
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
