#pragma once

// A certificate that "is not yet valid" or "has expired" is, far more often
// than not, a machine whose clock is wrong (a VM restored from a snapshot, a
// board without a battery-backed clock, NTP blocked), not a wrong URL or CA.
// Both TLS paths (libcurl for the cloud's HTTPS API, libwebsockets for the
// MQTT link) word that case with these, so the advice points at the clock
// and not at --cloud-ca or insecure.

#include <string>

#include "absl/time/time.h"

namespace cloudlink {

// Whether an OpenSSL verification result (X509_V_ERR_*, as libcurl's
// CURLINFO_SSL_VERIFYRESULT or a verify callback gives it) says that a
// certificate's validity period does not include this machine's time:
// X509_V_ERR_CERT_NOT_YET_VALID or X509_V_ERR_CERT_HAS_EXPIRED.
bool IsCertificateTimeError(long verify_result);

// The advice for such a result, with the local time `now` in RFC 3339 UTC:
// "the certificate is not yet valid by this machine's clock (now
// 2026-12-06T09:00:00Z): the system clock is probably wrong; set it (NTP,
// timedatectl) and run `cloudlinkctl reload-claiming-state`" (or "has
// expired ... wrong, or the server's certificate really expired; ..."). Pure.
std::string CertificateTimeAdvice(long verify_result, absl::Time now);

}  // namespace cloudlink
