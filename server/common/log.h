#pragma once

// One line per event: "2026-11-26T20:58:14.123Z INFO message", on stderr or
// in the --log-file. When stderr is the systemd journal (JOURNAL_STREAM names
// stderr's device and inode), lines carry the journal's priority prefix
// instead of a timestamp, "<6>INFO message", so that the journal records
// each line's priority (<7> debug, <6> info, <4> warning, <3> error).
// Callers never pass secrets; see redact.h.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cloudlink {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below `level` are dropped. Thread-safe. Default kInfo.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

// Parses "debug", "info", "warning" or "error"; false for anything else.
bool ParseLogLevel(absl::string_view text, LogLevel* level);

// From now on, lines are appended to `path` (created 0640 when missing)
// instead of stderr, with timestamps. An error (the file cannot be opened)
// leaves the output as it was. Thread-safe.
absl::Status SetLogFile(const std::string& path);

// Opens the log file's path again, for log rotation (the old file may have
// been renamed away). Lines written meanwhile go to the old file or the new
// one, never lost or split. An error keeps the old file. OK without a log
// file. Thread-safe.
absl::Status ReopenLogFile();

// Whether lines on stderr carry journal priority prefixes: stderr is the
// stream JOURNAL_STREAM ("DEVICE:INODE") names. Decided once, at the first
// line or call.
bool StderrIsJournal();

// Writes one line (newlines in `message` are replaced by spaces). Thread-safe.
void Log(LogLevel level, absl::string_view message);

inline void LogDebug(absl::string_view m) { Log(LogLevel::kDebug, m); }
inline void LogInfo(absl::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarning(absl::string_view m) { Log(LogLevel::kWarning, m); }
inline void LogError(absl::string_view m) { Log(LogLevel::kError, m); }

// Whether a line at `level` would be written; for callers whose message is
// costly to build.
inline bool LogEnabled(LogLevel level) { return level >= GetLogLevel(); }

}  // namespace cloudlink
