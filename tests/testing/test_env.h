#pragma once

// Helpers for tests that run real processes: short temporary directories,
// free loopback ports, bounded waits, files.

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tests/testing/loopback_port.h"

namespace cloudlink::testing {

// A directory under /tmp with a short name (Unix socket paths must stay below
// 107 bytes, and TEST_TMPDIR is longer), removed with its contents on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// PickFreeLoopbackPort() (loopback_port.h) for tests: aborts the test
// binary when no port can be had.
int PickFreePort();

// Polls `condition` every few milliseconds until it holds or `timeout`
// passes. Returns whether it held. For waiting on other processes, whose
// progress cannot be signalled to the test directly.
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout);

// Whole file contents, or "" when it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);
absl::Status WriteFile(const std::string& path, const std::string& content);
bool FileExists(const std::string& path);
// The permission bits (07777) of `path`, or -1.
int FileMode(const std::string& path);

// Path of a binary built by Bazel, from the test's runfiles
// (`workspace_relative` like "server/cloudlinkd").
std::string RunfilePath(const std::string& workspace_relative);

}  // namespace cloudlink::testing
