#include "tools/devcloud/certificates.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/openssl_ptr.h"
#include "server/common/status_macros.h"

namespace cloudlink::devcloud {
namespace {

constexpr long kValiditySeconds = 10L * 365 * 24 * 3600;

absl::Status GenerationFailed(absl::string_view step) {
  return Error(absl::StatusCode::kInternal, reason::kCertGenerationFailed,
               absl::StrCat("OpenSSL failed at ", step));
}

PkeyPtr NewRsaKey() { return PkeyPtr(EVP_RSA_gen(2048)); }

absl::Status AddExtension(X509* cert, X509* issuer, int nid,
                          const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return GenerationFailed(value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? absl::OkStatus() : GenerationFailed("X509_add_ext");
}

// A certificate for `key` named `common_name`, valid from an hour ago (clock
// skew) for ten years, with a random serial; not yet signed.
absl::StatusOr<X509Ptr> NewCertificate(EVP_PKEY* key, const char* common_name) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) {
    return GenerationFailed("X509_new");
  }
  unsigned char serial_bytes[16];
  RAND_bytes(serial_bytes, sizeof(serial_bytes));
  serial_bytes[0] &= 0x7f;  // positive
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      name, "O", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>("cloudlink dev cloud"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  return cert;
}

absl::StatusOr<std::string> CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return GenerationFailed("PEM");
  return BioText(bio.get());
}

absl::StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    return GenerationFailed("PEM");
  }
  return BioText(bio.get());
}

// True when the three files exist and parse, the server key matches its
// certificate, and the CA signed that certificate.
bool ExistingFilesUsable(const CertificateFiles& files, state::FileSystem* fs) {
  auto ca = fs->ReadFile(files.ca_cert);
  auto cert = fs->ReadFile(files.server_cert);
  auto key = fs->ReadFile(files.server_key);
  if (!ca.ok() || !cert.ok() || !key.ok()) return false;
  BioPtr ca_bio = MemoryBio(*ca);
  X509Ptr ca_x509(PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr));
  BioPtr cert_bio = MemoryBio(*cert);
  X509Ptr cert_x509(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  BioPtr key_bio = MemoryBio(*key);
  PkeyPtr pkey(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_x509 || !cert_x509 || !pkey) return false;
  return X509_check_private_key(cert_x509.get(), pkey.get()) == 1 &&
         X509_verify(cert_x509.get(), X509_get0_pubkey(ca_x509.get())) == 1;
}

}  // namespace

absl::StatusOr<CertificateFiles> EnsureCertificates(const std::string& dir,
                                                    state::FileSystem* fs) {
  CertificateFiles files;
  files.ca_cert = dir + "/ca.pem";
  files.ca_key = dir + "/ca.key";
  files.server_cert = dir + "/server.pem";
  files.server_key = dir + "/server.key";
  if (ExistingFilesUsable(files, fs)) return files;

  PkeyPtr ca_key = NewRsaKey();
  PkeyPtr server_key = NewRsaKey();
  if (!ca_key || !server_key) return GenerationFailed("RSA key generation");

  ASSIGN_OR_RETURN(X509Ptr ca,
                   NewCertificate(ca_key.get(), "cloudlink dev CA"));
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  RETURN_IF_ERROR(AddExtension(ca.get(), ca.get(), NID_basic_constraints,
                               "critical,CA:TRUE"));
  RETURN_IF_ERROR(AddExtension(ca.get(), ca.get(), NID_key_usage,
                               "critical,keyCertSign,cRLSign"));
  RETURN_IF_ERROR(
      AddExtension(ca.get(), ca.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(ca.get(), ca_key.get(), EVP_sha256()) <= 0) {
    return GenerationFailed("signing the CA");
  }

  ASSIGN_OR_RETURN(X509Ptr server,
                   NewCertificate(server_key.get(), "localhost"));
  X509_set_issuer_name(server.get(), X509_get_subject_name(ca.get()));
  RETURN_IF_ERROR(AddExtension(server.get(), ca.get(), NID_basic_constraints,
                               "critical,CA:FALSE"));
  RETURN_IF_ERROR(AddExtension(server.get(), ca.get(), NID_key_usage,
                               "critical,digitalSignature,keyEncipherment"));
  RETURN_IF_ERROR(
      AddExtension(server.get(), ca.get(), NID_ext_key_usage, "serverAuth"));
  RETURN_IF_ERROR(AddExtension(server.get(), ca.get(), NID_subject_alt_name,
                               "DNS:localhost,IP:127.0.0.1"));
  RETURN_IF_ERROR(
      AddExtension(server.get(), ca.get(), NID_subject_key_identifier, "hash"));
  RETURN_IF_ERROR(AddExtension(server.get(), ca.get(),
                               NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(server.get(), ca_key.get(), EVP_sha256()) <= 0) {
    return GenerationFailed("signing the server certificate");
  }

  ASSIGN_OR_RETURN(std::string ca_pem, CertPem(ca.get()));
  ASSIGN_OR_RETURN(std::string ca_key_pem, KeyPem(ca_key.get()));
  ASSIGN_OR_RETURN(std::string server_pem, CertPem(server.get()));
  ASSIGN_OR_RETURN(std::string server_key_pem, KeyPem(server_key.get()));
  // The CA certificate last: until it is written, the set fails the checks
  // of ExistingFilesUsable, so a crash in between means a clean regeneration.
  RETURN_IF_ERROR(fs->WriteFileAtomic(files.ca_key, ca_key_pem, 0600));
  RETURN_IF_ERROR(fs->WriteFileAtomic(files.server_key, server_key_pem, 0600));
  RETURN_IF_ERROR(fs->WriteFileAtomic(files.server_cert, server_pem, 0644));
  RETURN_IF_ERROR(fs->WriteFileAtomic(files.ca_cert, ca_pem, 0644));
  files.created = true;
  return files;
}

}  // namespace cloudlink::devcloud
