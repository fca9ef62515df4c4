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
// the --tls-* flags are refused without it. With --json, errors and
// warnings are JSON too (error_report.h). Secret flags take their values
// from a file, standard input or the environment (secret_flags.h).

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "client/global_flags.h"

namespace cloudlink::client {

inline constexpr char kCloudlinkctlVersion[] = "0.1.0";

// Exit codes, the same for every command (docs/cli.md).
inline constexpr int kExitOk = 0;
// The daemon answered with an error (or the call failed: deadline, a
// response that does not parse).
inline constexpr int kExitRpcError = 1;
// Unknown command or flag, a bad or missing value, an unreadable secret
// file: nothing was sent.
inline constexpr int kExitUsage = 2;
// No daemon answers at the socket or --target, or this user may not
// connect to the socket (SOCKET_PERMISSION_DENIED).
inline constexpr int kExitUnreachable = 3;
// The call succeeded but the node did not reach the state asked for:
// reload-claiming-state whose State is not online within --wait-seconds or
// carries a config_error (STATE_NOT_REACHED).
inline constexpr int kExitNotReached = 4;
// publish: one or more acks carry an error (PUBLISH_ACKS_FAILED).
inline constexpr int kExitPublishFailed = 5;

struct CliIo {
  std::istream* in;   // requests of client-streaming commands; secrets (-)
  std::ostream* out;  // results, help, version
  std::ostream* err;  // errors; never contains secret flag values
  // The environment, for secrets in CLOUDLINK_* variables (secret_flags.h);
  // empty: none.
  std::function<absl::optional<std::string>(const std::string&)> getenv;
};

// Runs one invocation. `args` excludes the program name. `env_socket` is
// $CLOUDLINK_SOCKET ("" when unset). Returns the exit code. Thread-compatible
// (no global state; independent invocations may run concurrently).
int RunCli(const std::vector<std::string>& args, absl::string_view env_socket,
           const CliIo& io);

}  // namespace cloudlink::client
