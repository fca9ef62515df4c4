#pragma once

// Crash-safe file replacement for the dev cloud's state files: a reader sees
// either the old or the new content, never a mix.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cloudlink::devcloud {

// Writes `content` to a temporary file beside `path` with permission `mode`,
// fsyncs it, renames it over `path` and fsyncs the directory. Errors are
// INTERNAL with reason WRITE_FAILED naming the path.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view content, int mode = 0644);

// Whole contents of `path`; NOT_FOUND when it does not exist, INTERNAL
// (READ_FAILED) on other errors.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace cloudlink::devcloud
