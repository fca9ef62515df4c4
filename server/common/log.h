#pragma once

// One line per event on stderr: "2026-11-26T20:58:14.123Z INFO message".
// Callers never pass secrets; see redact.h.

#include "absl/strings/string_view.h"

namespace cloudlink {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below `level` are dropped. Thread-safe. Default kInfo.
void SetLogLevel(LogLevel level);

// Parses "debug", "info", "warning" or "error"; false for anything else.
bool ParseLogLevel(absl::string_view text, LogLevel* level);

// Writes one line (newlines in `message` are replaced by spaces). Thread-safe.
void Log(LogLevel level, absl::string_view message);

inline void LogDebug(absl::string_view m) { Log(LogLevel::kDebug, m); }
inline void LogInfo(absl::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarning(absl::string_view m) { Log(LogLevel::kWarning, m); }
inline void LogError(absl::string_view m) { Log(LogLevel::kError, m); }

}  // namespace cloudlink
