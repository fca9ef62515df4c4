#include "server/transport/lws_tls_verify.h"

#include <openssl/x509.h>

#include "absl/strings/str_cat.h"
#include "server/common/certificate_time.h"
#include "server/common/error.h"
#include "server/common/log.h"

namespace cloudlink::transport {

bool InstallIpVerification(SSL_CTX* client_ctx, const std::string& ip) {
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(client_ctx);
  return param != nullptr &&
         X509_VERIFY_PARAM_set1_ip_asc(param, ip.c_str()) == 1;
}

void NoteCertVerification(X509_STORE_CTX* store, bool preverify_ok,
                          std::string* first_error, long* first_code) {
  if (LogEnabled(LogLevel::kDebug)) {
    X509* cert = X509_STORE_CTX_get_current_cert(store);
    char subject[256] = "?";
    if (cert != nullptr) {
      X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
    }
    const int error = X509_STORE_CTX_get_error(store);
    LogDebug(absl::StrCat(
        "LINK: TLS certificate at depth ",
        X509_STORE_CTX_get_error_depth(store), " ", subject, ": ",
        preverify_ok ? "verified" : X509_verify_cert_error_string(error)));
  }
  if (!preverify_ok) {
    const int error = X509_STORE_CTX_get_error(store);
    if (error != X509_V_OK && first_error->empty()) {
      *first_error = X509_verify_cert_error_string(error);
      *first_code = error;
    }
  }
}

absl::Status TlsVerifyFailed(absl::string_view host,
                             absl::string_view error_text, long error_code,
                             absl::Time now) {
  return Error(absl::StatusCode::kUnavailable, reason::kTlsVerifyFailed,
               absl::StrCat("TLS certificate verification failed for ", host,
                            " (", error_text, ")",
                            IsCertificateTimeError(error_code)
                                ? absl::StrCat("; ", CertificateTimeAdvice(
                                                         error_code, now))
                                : std::string()));
}

}  // namespace cloudlink::transport
