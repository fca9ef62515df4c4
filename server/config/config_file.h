#pragma once

// Reading a small configuration file whose absence is normal.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace cloudlink::config {

inline constexpr size_t kMaxConfigFileBytes = 64 * 1024;

// The contents of `path`; an empty optional when it does not exist (ENOENT).
// Errors: FAILED_PRECONDITION CONFIG_UNREADABLE naming the path and the
// system error when it cannot be opened or read, is not a regular file, or is
// larger than `max_bytes`. Thread-safe.
absl::StatusOr<absl::optional<std::string>> ReadConfigFile(
    const std::string& path, size_t max_bytes = kMaxConfigFileBytes);

}  // namespace cloudlink::config
