#include "server/api/remote_listener.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/openssl_ptr.h"

namespace cloudlink::api {
namespace {

absl::Status FlagsInvalid(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kRemoteFlagsInvalid,
               sentence);
}

absl::Status FileInvalid(absl::string_view flag, const std::string& path,
                         absl::string_view problem) {
  return Error(absl::StatusCode::kFailedPrecondition, reason::kTlsFileInvalid,
               absl::StrCat(flag, " ", path, ": ", problem));
}

absl::StatusOr<std::string> ReadFile(absl::string_view flag,
                                     const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  if (file) text << file.rdbuf();
  if (!file || file.bad()) return FileInvalid(flag, path, "cannot be read");
  if (text.str().empty()) return FileInvalid(flag, path, "is empty");
  return text.str();
}

// Every certificate in `pem`, in order.
std::vector<X509Ptr> Certificates(const std::string& pem) {
  auto bio = MemoryBio(pem);
  std::vector<X509Ptr> certificates;
  while (X509* one = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(one);
  }
  ERR_clear_error();  // the end of the file reads as an error
  return certificates;
}

// ALPN: "h2" when the client offers it (gRPC clients refuse a server that
// selects nothing).
int SelectH2(SSL*, const unsigned char** out, unsigned char* out_length,
             const unsigned char* offered, unsigned int offered_length, void*) {
  static const unsigned char kH2[] = {2, 'h', '2'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kH2, sizeof(kH2), offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

absl::Status CheckRemoteListenerFlags(const RemoteListenerFlags& flags) {
  const struct {
    const char* name;
    const std::string* value;
  } files[] = {{"--tls-cert", &flags.tls_cert},
               {"--tls-key", &flags.tls_key},
               {"--tls-client-ca", &flags.tls_client_ca},
               {"--tls-allowed-subjects", &flags.allowed_subjects}};
  if (flags.listen.empty()) {
    if (!flags.tls_crl.empty()) {
      return FlagsInvalid(
          "--tls-crl is only used with --listen ADDRESS:PORT; add --listen "
          "or remove --tls-crl");
    }
    for (const auto& file : files) {
      if (!file.value->empty()) {
        return FlagsInvalid(
            absl::StrCat(file.name,
                         " is only used with --listen ADDRESS:PORT; add "
                         "--listen or remove ",
                         file.name));
      }
    }
    return absl::OkStatus();
  }
  for (const auto& file : files) {
    if (file.value->empty()) {
      return FlagsInvalid(absl::StrCat(
          "--listen needs ", file.name,
          ": the remote API is served only over mutual TLS (--tls-cert, "
          "--tls-key, --tls-client-ca) to the clients listed in "
          "--tls-allowed-subjects"));
    }
  }
  absl::string_view address = flags.listen;
  const size_t colon = address.rfind(':');
  absl::string_view host =
      colon == absl::string_view::npos ? "" : address.substr(0, colon);
  const absl::string_view port_text =
      colon == absl::string_view::npos ? "" : address.substr(colon + 1);
  const bool bracketed =
      host.size() >= 2 && host.front() == '[' && host.back() == ']';
  const bool bare_ipv6 =
      !bracketed && host.find(':') != absl::string_view::npos;
  int port = 0;
  if (host.empty() || (bracketed && host.size() == 2) || bare_ipv6 ||
      host.find('/') != absl::string_view::npos ||
      !absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
    return FlagsInvalid(absl::StrCat(
        "--listen must be ADDRESS:PORT (e.g. 0.0.0.0:7443, [::1]:7443, "
        "node1.example.com:7443), got \"",
        flags.listen, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<TlsServerContext>> LoadMutualTlsCredentials(
    const RemoteListenerFlags& flags) {
  absl::StatusOr<std::string> cert = ReadFile("--tls-cert", flags.tls_cert);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile("--tls-key", flags.tls_key);
  if (!key.ok()) return key.status();
  struct stat st;
  if (stat(flags.tls_key.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
    LogWarning(absl::StrCat("API: --tls-key ", flags.tls_key,
                            " holds the listener's private key and every user "
                            "may read it; fix: chmod o-r ",
                            flags.tls_key));
  }
  absl::StatusOr<std::string> client_ca =
      ReadFile("--tls-client-ca", flags.tls_client_ca);
  if (!client_ca.ok()) return client_ca.status();
  absl::StatusOr<std::string> crl;
  if (!flags.tls_crl.empty()) {
    crl = ReadFile("--tls-crl", flags.tls_crl);
    if (!crl.ok()) return crl.status();
  }

  std::vector<X509Ptr> chain = Certificates(*cert);
  if (chain.empty()) {
    return FileInvalid("--tls-cert", flags.tls_cert,
                       "holds no PEM certificate");
  }
  auto key_bio = MemoryBio(*key);
  PkeyPtr private_key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (private_key == nullptr) {
    ERR_clear_error();
    return FileInvalid("--tls-key", flags.tls_key,
                       "holds no unencrypted PEM private key");
  }
  if (X509_check_private_key(chain[0].get(), private_key.get()) != 1) {
    ERR_clear_error();
    return FileInvalid(
        "--tls-key", flags.tls_key,
        absl::StrCat("does not belong to the certificate in ", flags.tls_cert));
  }
  std::vector<X509Ptr> cas = Certificates(*client_ca);
  if (cas.empty()) {
    return FileInvalid("--tls-client-ca", flags.tls_client_ca,
                       "holds no PEM certificate");
  }
  std::vector<X509CrlPtr> crls;
  if (crl.ok() && !flags.tls_crl.empty()) {
    auto bio = MemoryBio(*crl);
    while (X509_CRL* one =
               PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
      crls.emplace_back(one);
    }
    ERR_clear_error();
    if (crls.empty()) {
      return FileInvalid("--tls-crl", flags.tls_crl, "holds no PEM CRL");
    }
  }

  auto context =
      std::make_shared<TlsServerContext>(SSL_CTX_new(TLS_server_method()));
  SSL_CTX* ctx = context->get();
  if (ctx == nullptr) {
    ERR_clear_error();
    return FileInvalid("--tls-cert", flags.tls_cert,
                       "cannot set up TLS (SSL_CTX_new failed)");
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(
      ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  bool ok = SSL_CTX_use_certificate(ctx, chain[0].get()) == 1 &&
            SSL_CTX_use_PrivateKey(ctx, private_key.get()) == 1;
  for (size_t i = 1; ok && i < chain.size(); ++i) {
    ok = SSL_CTX_add_extra_chain_cert(ctx, chain[i].get()) == 1;
    if (ok) chain[i].release();  // the context owns it now
  }
  if (!ok) {
    ERR_clear_error();
    return FileInvalid("--tls-cert", flags.tls_cert,
                       "cannot be used as the server certificate");
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const auto& ca : cas) X509_STORE_add_cert(store, ca.get());
  for (const auto& one : crls) X509_STORE_add_crl(store, one.get());
  if (!crls.empty()) {
    X509_STORE_set_flags(store,
                         X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  }
  ERR_clear_error();  // a CA listed twice is not an error
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     nullptr);
  SSL_CTX_set_alpn_select_cb(ctx, SelectH2, nullptr);
  return context;
}

}  // namespace cloudlink::api
