#pragma once

// Where the value of a secret flag (a claim or API token: IsSecretField)
// comes from. A command-line argument is readable by every local user in
// /proc/PID/cmdline and `ps`, so each secret flag --X also takes
//
//   --X-file PATH    the file's content
//   --X -            the first line of standard input (also --X-file -)
//   $CLOUDLINK_X     an environment variable (SecretEnvVar), used when the
//                    flag is not given in any form
//
// and the plain argument form prints a warning (SecretArgumentWarning).

#include <istream>
#include <string>

#include "absl/status/statusor.h"
#include "client/descriptor_commands.h"

namespace cloudlink::client {

// The largest secret file read; a larger one is refused.
inline constexpr size_t kMaxSecretFileBytes = 64 * 1024;

enum class SecretForm { kArgument, kFile, kStdin, kEnvironment };

struct SecretInput {
  const FlagSpec* flag = nullptr;
  SecretForm form = SecretForm::kArgument;
  std::string path;  // kFile: the file ("-" is kStdin)
};

// Reads the secret of a kFile or kStdin input: the file (at most
// kMaxSecretFileBytes) or the first line of `in`, without leading and
// trailing whitespace. It must be one non-empty line. Errors:
// INVALID_ARGUMENT SECRET_UNREADABLE naming the flag and file, never the
// content. Not thread-safe for a shared `in`.
absl::StatusOr<std::string> ReadSecret(const SecretInput& input,
                                       std::istream& in);

// The warning printed when `flag` was given as a plain argument: it names
// the flag, where the value is visible and the safe forms. No trailing
// newline.
std::string SecretArgumentWarning(const FlagSpec& flag);

}  // namespace cloudlink::client
