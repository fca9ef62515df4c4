#pragma once

// Certificates outside their validity period, for the clock-skew tests:
// the same certificate (key, names, issuer) with other dates.

#include <string>

#include "absl/time/time.h"

namespace cloudlink::testing {

// Reads the PEM certificate at `cert_path`, sets its validity to
// [`not_before`, `not_after`], signs it again with the PEM private key at
// `ca_key_path` (its issuer's) and writes it to `out_path` (may be
// `cert_path`). False when a file cannot be read or written or OpenSSL
// fails.
bool RedateCertificate(const std::string& cert_path,
                       const std::string& ca_key_path, absl::Time not_before,
                       absl::Time not_after, const std::string& out_path);

}  // namespace cloudlink::testing
