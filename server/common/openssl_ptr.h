#pragma once

// OpenSSL objects owned by std::unique_ptr, and memory BIOs to and from
// strings: what every user of OpenSSL here needs around its calls.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace cloudlink {

// Frees each kind with its own OpenSSL function.
struct OpenSslFree {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};

using BioPtr = std::unique_ptr<BIO, OpenSslFree>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OpenSslFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslFree>;

// A read-only memory BIO over `bytes`, which must outlive it; null when
// OpenSSL cannot make one.
BioPtr MemoryBio(absl::string_view bytes);

// Everything written so far to the memory BIO `bio` (BIO_s_mem()).
std::string BioText(BIO* bio);

}  // namespace cloudlink
