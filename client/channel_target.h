#pragma once

// Where cloudlinkctl sends its calls: cloudlinkd's Unix socket (the default),
// or, with --target HOST:PORT, the daemon's remote API, which speaks only
// mutual TLS: the client presents --tls-cert/--tls-key and verifies the
// daemon's certificate against --tls-ca (the system's CAs when not given).

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cloudlink::client {

struct ChannelTarget {
  std::string socket;    // the Unix socket path; used when `address` is ""
  std::string address;   // --target HOST:PORT
  std::string tls_cert;  // --tls-cert: client certificate chain (PEM)
  std::string tls_key;   // --tls-key: its private key (PEM)
  std::string tls_ca;    // --tls-ca: CAs trusted for the daemon (PEM)

  bool remote() const { return !address.empty(); }
  // "unix:/run/cloudlink/cloudlink.sock" or "host:7443 (mutual TLS)".
  std::string Describe() const;
};

// Checks the flags together: --tls-* only with --target, and --target needs
// --tls-cert and --tls-key. INVALID_ARGUMENT (reason BAD_FLAG_VALUE or
// MISSING_FLAG) naming the flag.
absl::Status CheckChannelTarget(const ChannelTarget& target);

// A channel to `target` (after CheckChannelTarget). Reads the TLS files:
// FAILED_PRECONDITION TLS_FILE_UNREADABLE naming the flag and the path when
// one cannot be read. Does not connect.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ChannelTarget& target);

}  // namespace cloudlink::client
