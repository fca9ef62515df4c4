#include "client/channel_target.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

absl::StatusOr<std::string> ReadTlsFile(absl::string_view flag,
                                        const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  if (file) text << file.rdbuf();
  if (!file || file.bad() || text.str().empty()) {
    return Error(absl::StatusCode::kFailedPrecondition,
                 reason::kTlsFileUnreadable,
                 absl::StrCat(flag, ": cannot read ", path));
  }
  return text.str();
}

}  // namespace

std::string ChannelTarget::Describe() const {
  return remote() ? absl::StrCat(address, " (mutual TLS)")
                  : absl::StrCat("unix:", socket);
}

absl::Status CheckChannelTarget(const ChannelTarget& target) {
  if (!target.remote()) {
    for (const auto& [flag, value] :
         {std::pair<const char*, const std::string*>{"--tls-cert",
                                                     &target.tls_cert},
          {"--tls-key", &target.tls_key},
          {"--tls-ca", &target.tls_ca}}) {
      if (!value->empty()) {
        return Error(absl::StatusCode::kInvalidArgument, reason::kBadFlagValue,
                     absl::StrCat(flag,
                                  " is only used with --target "
                                  "HOST:PORT"));
      }
    }
    return absl::OkStatus();
  }
  if (target.address.rfind(':') == std::string::npos ||
      target.address.back() == ':') {
    return Error(absl::StatusCode::kInvalidArgument, reason::kBadFlagValue,
                 absl::StrCat("--target must be HOST:PORT, got \"",
                              target.address, "\""));
  }
  if (target.tls_cert.empty() || target.tls_key.empty()) {
    return Error(
        absl::StatusCode::kInvalidArgument, reason::kMissingFlag,
        absl::StrCat("--target needs ",
                     target.tls_cert.empty() ? "--tls-cert" : "--tls-key",
                     ": cloudlinkd's remote API accepts only clients "
                     "with a certificate (--tls-cert, --tls-key)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ChannelTarget& target) {
  if (!target.remote()) {
    return grpc::CreateChannel(absl::StrCat("unix:", target.socket),
                               grpc::InsecureChannelCredentials());
  }
  grpc::SslCredentialsOptions options;
  absl::StatusOr<std::string> cert = ReadTlsFile("--tls-cert", target.tls_cert);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadTlsFile("--tls-key", target.tls_key);
  if (!key.ok()) return key.status();
  options.pem_cert_chain = *cert;
  options.pem_private_key = *key;
  if (!target.tls_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadTlsFile("--tls-ca", target.tls_ca);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
  }
  return grpc::CreateChannel(target.address, grpc::SslCredentials(options));
}

}  // namespace cloudlink::client
