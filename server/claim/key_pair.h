#pragma once

// The node's RSA 2048 key pair in cloud.d/: private.pem
// (PKCS#8, 0600) and public.pem (SubjectPublicKeyInfo, 0644). public.pem is
// written last, so its presence means the pair is complete. Uses only EVP
// and PEM calls that BoringSSL also offers.

#include <string>

#include "absl/status/statusor.h"
#include "server/state/file_system.h"
#include "server/state/state_dir.h"

namespace cloudlink::claim {

// Returns the public key PEM, generating and storing a new pair first when
// public.pem or private.pem is missing or does not parse. Errors:
// KEY_GENERATION_FAILED (OpenSSL), UNAVAILABLE STATE_WRITE_FAILED when the
// pair cannot be stored (disk full, read-only lib directory).
absl::StatusOr<std::string> EnsureKeyPair(state::StateDir& dir,
                                          state::FileSystem* fs);

// RSA-OAEP (SHA-1, MGF1-SHA-1) decryption with the private key in PEM
// `private_pem` — the challenge of the cloud's login (docs/protocol.md).
// Errors: KEY_INVALID, CHALLENGE_INVALID.
absl::StatusOr<std::string> DecryptOaepSha1(const std::string& private_pem,
                                            const std::string& ciphertext);

}  // namespace cloudlink::claim
