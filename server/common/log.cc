#include "server/common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cloudlink {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

// The log file, when there is one. Writers hold the mutex for their one
// write(), so a reopen never closes a descriptor under a writer.
struct LogFile {
  std::mutex mu;
  std::string path;
  int fd = -1;
};

LogFile& TheLogFile() {
  static LogFile* file = new LogFile();
  return *file;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

// sd-daemon(3) priorities.
const char* JournalPrefix(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "<7>";
    case LogLevel::kInfo:
      return "<6>";
    case LogLevel::kWarning:
      return "<4>";
    case LogLevel::kError:
      return "<3>";
  }
  return "<6>";
}

bool DetectJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  std::pair<std::string, std::string> parts =
      absl::StrSplit(stream, absl::MaxSplits(':', 1));
  uint64_t dev = 0;
  uint64_t ino = 0;
  if (!absl::SimpleAtoi(parts.first, &dev) ||
      !absl::SimpleAtoi(parts.second, &ino)) {
    return false;
  }
  struct stat st;
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<uint64_t>(st.st_dev) == dev &&
         static_cast<uint64_t>(st.st_ino) == ino;
}

void WriteAll(int fd, const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

absl::StatusOr<int> OpenLogFile(const std::string& path) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open the log file ", path, ": ", strerror(errno)));
  }
  return fd;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

bool ParseLogLevel(absl::string_view text, LogLevel* level) {
  if (text == "debug") {
    *level = LogLevel::kDebug;
  } else if (text == "info") {
    *level = LogLevel::kInfo;
  } else if (text == "warning") {
    *level = LogLevel::kWarning;
  } else if (text == "error") {
    *level = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

bool StderrIsJournal() {
  static const bool journal = DetectJournal();
  return journal;
}

absl::Status SetLogFile(const std::string& path) {
  absl::StatusOr<int> fd = OpenLogFile(path);
  if (!fd.ok()) return fd.status();
  LogFile& file = TheLogFile();
  std::lock_guard<std::mutex> lock(file.mu);
  if (file.fd >= 0) close(file.fd);
  file.fd = *fd;
  file.path = path;
  return absl::OkStatus();
}

absl::Status ReopenLogFile() {
  LogFile& file = TheLogFile();
  std::string path;
  {
    std::lock_guard<std::mutex> lock(file.mu);
    if (file.fd < 0) return absl::OkStatus();
    path = file.path;
  }
  return SetLogFile(path);
}

void Log(LogLevel level, absl::string_view message) {
  if (static_cast<int>(level) < g_level.load()) return;
  LogFile& file = TheLogFile();
  std::lock_guard<std::mutex> lock(file.mu);
  const bool journal = file.fd < 0 && StderrIsJournal();
  std::string line =
      journal
          ? absl::StrCat(JournalPrefix(level), LevelName(level), " ", message)
          : absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                          absl::UTCTimeZone()),
                         " ", LevelName(level), " ", message);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  line.push_back('\n');
  // One write() per line keeps lines whole when processes share the file.
  WriteAll(file.fd >= 0 ? file.fd : STDERR_FILENO, line);
}

}  // namespace cloudlink
