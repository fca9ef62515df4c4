#pragma once

// A child process for integration tests: started with fork/exec in its own
// process group, its stdout and stderr captured to files, and always killed
// (the whole group) when the Subprocess is destroyed, so a failing test never
// leaves processes behind.

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cloudlink::testing {

struct SubprocessOptions {
  std::vector<std::string> argv;  // argv[0] is the program path
  // Variables added to (or, with an empty value and unset=true, removed
  // from) the test's environment.
  std::map<std::string, std::string> env;
  std::vector<std::string> unset_env;
  std::string stdout_path;  // "" → /dev/null
  std::string stderr_path;  // "" → /dev/null
  std::string stdin_text;   // written to the child's stdin, then closed
  // When Wait() times out, its error carries the process's thread stacks
  // (gdb), so a hang seen once in CI can be read from the test's log.
  bool stacks_on_timeout = true;
};

class Subprocess {
 public:
  // Starts the process. The returned object owns it.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      SubprocessOptions options);
  // SIGKILLs the process group if still running, then reaps. In sanitizer
  // builds, a sanitizer report in the captured stderr fails the current
  // test: a race or leak in cloudlinkd shows up in the test that ran it.
  ~Subprocess();

  pid_t pid() const { return pid_; }

  // Sends `sig` to the process (not the group).
  void Signal(int sig);
  // Waits up to `timeout` for the process to exit; returns its wait status
  // (as from waitpid) or DEADLINE_EXCEEDED, whose message ends with the
  // process's thread stacks (see SubprocessOptions::stacks_on_timeout).
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // True while the process has not been reaped.
  bool Running();

  // Contents of the captured stdout / stderr so far.
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  Subprocess(pid_t pid, SubprocessOptions options)
      : pid_(pid), options_(std::move(options)) {}
  pid_t pid_;
  bool reaped_ = false;
  int wait_status_ = 0;
  SubprocessOptions options_;
};

// Runs a command to completion (bounded by `timeout`), returning exit code,
// stdout and stderr.
struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};
absl::StatusOr<RunResult> Run(SubprocessOptions options,
                              absl::Duration timeout);

// The backtraces of every thread of `pid`, main thread first (gdb, at most
// 20 s, the first 64 KiB), or a line saying why there are none (no gdb, attach
// refused).
std::string ThreadStacks(pid_t pid);

// The first sanitizer report (ASan, LSan, TSan, UBSan) in a process's
// output, up to 4 KiB of it; "" when there is none.
std::string SanitizerReport(const std::string& output);

}  // namespace cloudlink::testing
