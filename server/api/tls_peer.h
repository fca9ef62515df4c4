#pragma once

// What the remote listener learns from a finished TLS handshake: the
// client's verified certificate as a TlsPeer (unix_peer_registry.h), and
// OpenSSL's error queue as a sentence for logs.

#include <openssl/ssl.h>

#include <string>

#include "absl/types/optional.h"
#include "server/api/unix_peer_registry.h"

namespace cloudlink::api {

// The peer of `ssl`, whose handshake has completed: subject (RFC 2253),
// common name, PEM of the leaf certificate, and `address`. nullopt when the
// client presented no certificate or it did not verify.
absl::optional<TlsPeer> VerifiedTlsPeer(SSL* ssl, std::string address);

// The oldest error on this thread's OpenSSL error queue as text, and the
// queue cleared; "connection closed" when the queue is empty.
std::string TakeOpenSslError();

}  // namespace cloudlink::api
