#include "server/api/tls_peer.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <utility>

#include "server/common/openssl_ptr.h"

namespace cloudlink::api {
namespace {

std::string SubjectOf(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) return "";
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0,
                     XN_FLAG_RFC2253);
  return BioText(bio.get());
}

std::string CommonNameOf(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return "";
  ASN1_STRING* data =
      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return "";
  std::string common_name(reinterpret_cast<char*>(utf8), length);
  OPENSSL_free(utf8);
  return common_name;
}

std::string PemOf(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) return "";
  PEM_write_bio_X509(bio.get(), cert);
  return BioText(bio.get());
}

X509* PeerCertificate(SSL* ssl) {
#if defined(OPENSSL_IS_BORINGSSL) || OPENSSL_VERSION_NUMBER < 0x30000000L
  return SSL_get_peer_certificate(ssl);
#else
  return SSL_get1_peer_certificate(ssl);
#endif
}

}  // namespace

absl::optional<TlsPeer> VerifiedTlsPeer(SSL* ssl, std::string address) {
  X509* cert = PeerCertificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) {
    if (cert != nullptr) X509_free(cert);
    return absl::nullopt;
  }
  TlsPeer peer;
  peer.subject = SubjectOf(cert);
  peer.common_name = CommonNameOf(cert);
  peer.certificate_pem = PemOf(cert);
  peer.address = std::move(address);
  X509_free(cert);
  return peer;
}

std::string TakeOpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "connection closed";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

}  // namespace cloudlink::api
