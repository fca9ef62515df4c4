#include "server/api/remote_listener.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/common/error.h"
#include "server/common/log.h"

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

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

std::unique_ptr<BIO, BioDeleter> MemoryBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioDeleter>(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::unique_ptr<X509, X509Deleter> FirstCertificate(const std::string& pem) {
  auto bio = MemoryBio(pem);
  return std::unique_ptr<X509, X509Deleter>(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
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

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
LoadMutualTlsCredentials(const RemoteListenerFlags& flags) {
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

  auto certificate = FirstCertificate(*cert);
  if (certificate == nullptr) {
    return FileInvalid("--tls-cert", flags.tls_cert,
                       "holds no PEM certificate");
  }
  auto key_bio = MemoryBio(*key);
  std::unique_ptr<EVP_PKEY, KeyDeleter> private_key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (private_key == nullptr) {
    ERR_clear_error();
    return FileInvalid("--tls-key", flags.tls_key,
                       "holds no unencrypted PEM private key");
  }
  if (X509_check_private_key(certificate.get(), private_key.get()) != 1) {
    ERR_clear_error();
    return FileInvalid(
        "--tls-key", flags.tls_key,
        absl::StrCat("does not belong to the certificate in ", flags.tls_cert));
  }
  if (FirstCertificate(*client_ca) == nullptr) {
    ERR_clear_error();
    return FileInvalid("--tls-client-ca", flags.tls_client_ca,
                       "holds no PEM certificate");
  }

  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = *client_ca;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

}  // namespace cloudlink::api
