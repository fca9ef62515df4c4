#pragma once

// The cloudlinkctl program: global flags, dispatch to the commands generated
// from the CloudLink service (descriptor_commands.h), the aclk-state
// compatibility command, output and exit codes.
//
//   cloudlinkctl [--socket PATH] [--json] [--timeout SECONDS] COMMAND [flags]
//   cloudlinkctl --target HOST:PORT --tls-cert FILE --tls-key FILE
//                [--tls-ca FILE] COMMAND [flags]
//   cloudlinkctl COMMAND --help | cloudlinkctl --help | cloudlinkctl --version
//   cloudlinkctl aclk-state [json]
//
// Global flags may appear before or after the command. The socket is --socket,
// else $CLOUDLINK_SOCKET, else /run/cloudlink/cloudlink.sock ("unix:" prefix
// optional). --timeout is the deadline of the call (default 30 s; server-
// streaming commands have none unless it is given; 0 means none). --target
// calls the daemon's remote API over mutual TLS instead (channel_target.h);
// the --tls-* flags are refused without it.

#include <iosfwd>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/global_flags.h"

namespace cloudlink::client {

inline constexpr char kCloudlinkctlVersion[] = "0.1.0";

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRpcError = 1;     // the daemon answered with an error
inline constexpr int kExitUsage = 2;        // unknown command/flag, bad value
inline constexpr int kExitUnreachable = 3;  // no daemon at the socket

struct CliIo {
  std::istream* in;   // requests of client-streaming commands
  std::ostream* out;  // results, help, version
  std::ostream* err;  // errors; never contains secret flag values
};

// Runs one invocation. `args` excludes the program name. `env_socket` is
// $CLOUDLINK_SOCKET ("" when unset). Returns the exit code. Thread-compatible
// (no global state; independent invocations may run concurrently).
int RunCli(const std::vector<std::string>& args, absl::string_view env_socket,
           const CliIo& io);

}  // namespace cloudlink::client
