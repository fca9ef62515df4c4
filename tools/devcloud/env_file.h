#pragma once

// DIR/devcloud.env: the readiness signal of the dev cloud and the way scripts
// and tests learn its URL, CA, Spaces and ports. Written atomically once the
// dev cloud serves, so a reader either sees no file or a complete one.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/state/file_system.h"

namespace cloudlink::devcloud {

using EnvLines = std::vector<std::pair<std::string, std::string>>;

// `value` as one shell word: unchanged when it has only [A-Za-z0-9_,.:/@%+=-]
// characters, otherwise in single quotes (with ' written as '\'').
std::string ShellQuote(absl::string_view value);

// "KEY=value\n" lines, eval-able by sh.
std::string FormatEnvLines(const EnvLines& lines);

// Writes FormatEnvLines(lines) to `path` atomically through `fs`, mode 0600
// (it holds tokens).
absl::Status WriteEnvFile(const std::string& path, const EnvLines& lines,
                          state::FileSystem* fs);

// Parses "KEY=value" lines as written by FormatEnvLines (for tests and
// tools). Lines without '=' are skipped.
EnvLines ParseEnvLines(absl::string_view text);

}  // namespace cloudlink::devcloud
