#pragma once

// The TLS certificate checks the lws connection adds to libwebsockets 4.1's
// own: verifying an IP address literal (lws cuts the name it verifies at the
// first ':', so an IPv6 literal would be checked against nothing) and
// remembering why OpenSSL refused a certificate, for the close reason.
//
// Called from the lws callbacks of one connection, on its service thread.

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cloudlink::transport {

// Makes every connection of `client_ctx` (lws's client SSL_CTX, as it is
// made: LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS) accept only a
// certificate for the IP address `ip` (an IPv4 or IPv6 literal). Returns
// false when OpenSSL refused the address; the caller must not connect then.
bool InstallIpVerification(SSL_CTX* client_ctx, const std::string& ip);

// One step of OpenSSL's chain verification
// (LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION; `preverify_ok`
// is OpenSSL's verdict): logs the certificate at debug level and keeps the
// first error's text in `*first_error` and its X509_V_ERR_* code in
// `*first_code` (both left alone when an error is already set). lws decides
// the outcome; this only notes it.
void NoteCertVerification(X509_STORE_CTX* store, bool preverify_ok,
                          std::string* first_error, long* first_code);

// The close reason when OpenSSL refused the certificate of `host`:
// UNAVAILABLE TLS_VERIFY_FAILED with OpenSSL's `error_text` (lws's own text
// is only "connect SSL err 1"), and for a certificate that is not yet valid
// or has expired (`error_code`, X509_V_ERR_*) the advice that the system
// clock is probably wrong, with the time `now`. Pure.
absl::Status TlsVerifyFailed(absl::string_view host,
                             absl::string_view error_text, long error_code,
                             absl::Time now);

}  // namespace cloudlink::transport
