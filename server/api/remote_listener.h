#pragma once

// The optional remote API listener: gRPC over TCP with mutual TLS only, never
// plain TCP. The server presents --tls-cert/--tls-key and requires every
// client to present a certificate that verifies against --tls-client-ca
// (REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY); which verified
// clients may do what is the allowed-subjects file's business
// (allowed_subjects.h, authorizer.h).

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cloudlink::api {

struct RemoteListenerFlags {
  std::string listen;            // --listen ADDRESS:PORT; "" for none
  std::string tls_cert;          // --tls-cert: server certificate chain (PEM)
  std::string tls_key;           // --tls-key: its private key (PEM)
  std::string tls_client_ca;     // --tls-client-ca: CAs clients must chain to
  std::string allowed_subjects;  // --tls-allowed-subjects FILE
};

// Checks the flags together, without reading files: with --listen, all four
// files are required; without it, none may be given (so a TLS setting is
// never silently ignored). --listen must be HOST:PORT or [IPV6]:PORT with a
// port 1..65535. INVALID_ARGUMENT REMOTE_FLAGS_INVALID naming the flag.
absl::Status CheckRemoteListenerFlags(const RemoteListenerFlags& flags);

// Reads the certificate, key and client CA files, checks that each parses
// and that the key belongs to the certificate, and builds the server
// credentials. FAILED_PRECONDITION TLS_FILE_INVALID naming the flag and the
// file (never its contents).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
LoadMutualTlsCredentials(const RemoteListenerFlags& flags);

}  // namespace cloudlink::api
