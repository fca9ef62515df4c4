#include "server/common/certificate_time.h"

#include <openssl/x509_vfy.h>

#include "absl/strings/str_cat.h"

namespace cloudlink {

bool IsCertificateTimeError(long verify_result) {
  return verify_result == X509_V_ERR_CERT_NOT_YET_VALID ||
         verify_result == X509_V_ERR_CERT_HAS_EXPIRED;
}

std::string CertificateTimeAdvice(long verify_result, absl::Time now) {
  const bool not_yet = verify_result == X509_V_ERR_CERT_NOT_YET_VALID;
  return absl::StrCat(
      "the certificate ", not_yet ? "is not yet valid" : "has expired",
      " by this machine's clock (now ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone()),
      "): the system clock is probably wrong",
      not_yet ? "" : ", or the server's certificate really expired",
      "; set the clock (NTP, timedatectl) and run `cloudlinkctl "
      "reload-claiming-state`");
}

}  // namespace cloudlink
