#include "tests/testing/redate_certificate.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>

namespace cloudlink::testing {
namespace {

struct FileCloser {
  void operator()(FILE* f) const { fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

}  // namespace

bool RedateCertificate(const std::string& cert_path,
                       const std::string& ca_key_path, absl::Time not_before,
                       absl::Time not_after, const std::string& out_path) {
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
  in.reset();
  FilePtr out(fopen(out_path.c_str(), "w"));
  return out && PEM_write_X509(out.get(), cert.get()) == 1;
}

}  // namespace cloudlink::testing
