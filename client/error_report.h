#pragma once

// How cloudlinkctl reports a failure with --json: one line on standard error
// holding one JSON object of a fixed shape, so that scripts need not parse
// sentences:
//
//   {"error":{"code":"PERMISSION_DENIED","reason":"TOKEN_INVALID",
//             "message":"TOKEN_INVALID: the cloud rejected the claim token "
//                       "(HTTP 403); ...",
//             "exit_code":1}}
//
// code: the gRPC status code name (for the CLI's own errors the code that
// fits: INVALID_ARGUMENT for usage errors, UNAVAILABLE for an unreachable
// daemon, ...); reason: the UPPER_SNAKE reason ("" when gRPC's own error
// carries none); message: the text as the daemon or the CLI writes it,
// "REASON: sentence" (as gRPC's status message and PublishAck.message);
// exit_code: the process's exit code (cli.h). Warnings have the shape
// {"warning":{"reason":"...","message":"REASON: ..."}}.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cloudlink::client {

struct CliError {
  std::string code;     // "INVALID_ARGUMENT"
  std::string reason;   // "BAD_FLAG_VALUE"; "" when none is known
  std::string message;  // "REASON: sentence"
  int exit_code = 1;
};

// A CliError from a status made by Error() (or any status): code name,
// ReasonOf(status) and the message.
CliError ErrorOf(const absl::Status& status, int exit_code);

// The one-line JSON of `error` / of a warning, each ending with "\n".
std::string ErrorJson(const CliError& error);
std::string WarningJson(absl::string_view reason, absl::string_view message);

}  // namespace cloudlink::client
