#pragma once

// The dev cloud's own small PKI: a CA and one server certificate it signs,
// made with the OpenSSL APIs on first start and reused afterwards, so a node
// (or a test) can verify the dev cloud with `CLOUD_CA=DIR/ca.pem` across
// restarts.

#include <string>

#include "absl/status/statusor.h"
#include "server/state/file_system.h"

namespace cloudlink::devcloud {

struct CertificateFiles {
  std::string ca_cert;  // DIR/ca.pem (CA:TRUE), 0644
  std::string ca_key;   // DIR/ca.key, 0600 (kept to re-issue the server cert)
  std::string server_cert;  // DIR/server.pem, SAN DNS:localhost, IP:127.0.0.1
  std::string server_key;   // DIR/server.key, 0600
  bool created = false;     // true when this call generated them
};

// Returns the certificate files in `dir`. When ca.pem, server.pem and
// server.key exist, parse, and the key matches the certificate, they are
// reused unchanged; otherwise a new CA (RSA 2048, 10 years) and a server
// certificate signed by it are generated and written atomically through
// `fs` (the real filesystem unless a test gives another). Errors: INTERNAL with
// reason CERT_GENERATION_FAILED, or the error of FileSystem::WriteFileAtomic.
// Not thread-safe with itself on the same `dir`.
absl::StatusOr<CertificateFiles> EnsureCertificates(
    const std::string& dir, state::FileSystem* fs = state::DefaultFileSystem());

}  // namespace cloudlink::devcloud
