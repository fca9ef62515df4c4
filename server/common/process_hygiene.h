#pragma once

// What a long-running daemon does to its own process at start:
//   - no core dumps: RLIMIT_CORE 0 and PR_SET_DUMPABLE 0, since a core would
//     hold the node's private key and the MQTT password (dumpable 0 also
//     keeps other users' ptrace and /proc/PID/mem out);
//   - RLIMIT_NOFILE raised to its hard limit, since every API client, the
//     link and the spool hold descriptors and service managers often start
//     programs with a soft limit of 1024;
//   - working directory "/", so that the daemon never holds a mount busy.
// Paths the program got relative to its start directory must be made
// absolute (AbsolutePath) before.

#include <string>
#include <vector>

namespace cloudlink {

struct HygieneOptions {
  // Keep the process's core dump settings (for debugging a crash).
  bool allow_core_dumps = false;
};

// One step's outcome, for the log.
struct HygieneStep {
  bool ok = true;    // false: the step failed (worth a warning)
  std::string text;  // "core dumps off", "open files limit 1024 -> 524288"
};

// Applies the above, one step after the other; a failed step is reported and
// the others still run.
std::vector<HygieneStep> ApplyProcessHygiene(const HygieneOptions& options);

// `path` made absolute against the current directory; "" stays "".
std::string AbsolutePath(const std::string& path);

}  // namespace cloudlink
