#pragma once

// A throwaway certificate authority for tests of the mutual-TLS listener,
// made with the openssl command line (EC P-256, valid for two days): the CA,
// server certificates for 127.0.0.1/localhost, and client certificates with
// any subject.

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cloudlink::testing {

struct CertFiles {
  std::string cert;  // PEM certificate
  std::string key;   // PEM private key (unencrypted)
};

class TestPki {
 public:
  // Creates the CA ("/O=cloudlink tests/CN=<name> CA") in `dir` (which must
  // exist); every file it makes is named after `name`.
  static absl::StatusOr<TestPki> Create(const std::string& dir,
                                        const std::string& name);

  // An existing CA (`ca`: its PEM certificate and key files, e.g. the dev
  // cloud's), issuing into `dir` with files named after `name`.
  static TestPki Adopt(const std::string& dir, const std::string& name,
                       CertFiles ca);

  const std::string& ca_cert() const { return ca_.cert; }

  // A server certificate for IP 127.0.0.1 and DNS localhost.
  absl::StatusOr<CertFiles> IssueServer(const std::string& name) const;
  // A server certificate whose subjectAltName is `subject_alt_name`
  // ("IP:::1").
  absl::StatusOr<CertFiles> IssueServerFor(
      const std::string& name, const std::string& subject_alt_name) const;
  // A client certificate with subject `subject` ("/O=Example/CN=ops").
  absl::StatusOr<CertFiles> IssueClient(const std::string& name,
                                        const std::string& subject) const;
  // A CRL (PEM) of this CA revoking `revoked` (possibly none), written to a
  // file named after `name`; returns its path.
  absl::StatusOr<std::string> MakeCrl(
      const std::string& name, const std::vector<CertFiles>& revoked) const;

 private:
  absl::StatusOr<CertFiles> Issue(const std::string& name,
                                  const std::string& subject,
                                  const std::string& extensions) const;
  std::string dir_;
  std::string name_;
  CertFiles ca_;
};

}  // namespace cloudlink::testing
