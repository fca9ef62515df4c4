#pragma once

// The optional remote API listener's settings: gRPC over TCP with mutual TLS
// only, never plain TCP. The server presents --tls-cert/--tls-key and
// requires every client to present a certificate that verifies against
// --tls-client-ca and is not revoked by --tls-crl (when given); which
// verified clients may do what is the allowed-subjects file's business
// (allowed_subjects.h, authorizer.h). TLS is ended in this process
// (tls_listener.h), with OpenSSL, not by gRPC.

#include <openssl/ssl.h>

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
  std::string tls_crl;  // --tls-crl: revoked client certificates; optional
};

// The TLS server side of the remote listener: an SSL_CTX that presents the
// server certificate, requires a client certificate that verifies against
// the client CAs (and, with a CRL, is not revoked; a CA without a CRL in the
// file then fails verification), offers only ALPN "h2" (what gRPC clients
// require), TLS 1.2 or newer, and keeps no sessions (so every connection is
// verified against the CAs and CRL in force). Immutable once built; shared
// by the connections it set up.
class TlsServerContext {
 public:
  explicit TlsServerContext(SSL_CTX* ctx) : ctx_(ctx) {}
  ~TlsServerContext() { SSL_CTX_free(ctx_); }
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  SSL_CTX* get() const { return ctx_; }

 private:
  SSL_CTX* const ctx_;
};

// Checks the flags together, without reading files: with --listen, all four
// files are required; without it, none may be given (so a TLS setting is
// never silently ignored). --tls-crl is optional with --listen. --listen must
// be HOST:PORT or [IPV6]:PORT with a port 1..65535. INVALID_ARGUMENT
// REMOTE_FLAGS_INVALID naming the flag.
absl::Status CheckRemoteListenerFlags(const RemoteListenerFlags& flags);

// Reads the certificate, key, client CA and (when given) CRL files, checks
// that each parses and that the key belongs to the certificate, and builds
// the TLS context. FAILED_PRECONDITION TLS_FILE_INVALID naming the flag and
// the file (never its contents). Called again on reload.
absl::StatusOr<std::shared_ptr<TlsServerContext>> LoadMutualTlsCredentials(
    const RemoteListenerFlags& flags);

}  // namespace cloudlink::api
