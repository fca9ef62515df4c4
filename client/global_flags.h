#pragma once

// cloudlinkctl's global flags (see cli.h): where the daemon is and how the
// call is made and printed. They may appear before or after the command.

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cloudlink::client {

inline constexpr char kDefaultSocket[] = "/run/cloudlink/cloudlink.sock";
inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(30);

struct GlobalFlags {
  std::string socket;  // the daemon's Unix socket path (no "unix:" prefix)
  // --target HOST:PORT and its mutual-TLS files (channel_target.h).
  std::string target;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  bool json = false;
  bool has_timeout = false;                  // --timeout was given
  absl::Duration timeout = kDefaultTimeout;  // InfiniteDuration() for none
  bool help = false;
  bool version = false;
};

// Applies args[*index] when it is a global flag ("--socket PATH",
// "--socket=PATH", "--timeout SECONDS", "--target HOST:PORT", "--tls-cert
// FILE", "--tls-key FILE", "--tls-ca FILE", "--json[=BOOL]", "--help[=BOOL]",
// "-h", "--version[=BOOL]") and advances *index past it (and its value);
// returns false, *index unchanged, when it is not one. --socket takes an
// optional "unix:" or "unix://" prefix; --timeout takes seconds or an
// absl::Duration ("1m30s"), 0 meaning none. Errors (INVALID_ARGUMENT):
// MISSING_FLAG_VALUE, BAD_FLAG_VALUE.
absl::StatusOr<bool> ApplyGlobalFlag(const std::vector<std::string>& args,
                                     size_t* index, GlobalFlags* flags);

// The socket path from $CLOUDLINK_SOCKET (`env_socket`, "" when unset,
// "unix:" prefix optional), else kDefaultSocket.
std::string SocketOf(absl::string_view env_socket);

}  // namespace cloudlink::client
