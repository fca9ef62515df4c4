#pragma once

// What a long-running daemon does to its own process at start:
//   - no core dumps: RLIMIT_CORE 0 and PR_SET_DUMPABLE 0, since a core would
//     hold the node's private key and the MQTT password (dumpable 0 also
//     keeps other users' ptrace and /proc/PID/mem out);
//   - RLIMIT_NOFILE raised to its hard limit, since every API client, the
//     link and the spool hold descriptors and service managers often start
//     programs with a soft limit of 1024;
//   - working directory "/", so that the daemon never holds a mount busy;
//   - the scheduling policy of every thread (threads started later inherit
//     it): SCHED_BATCH by default, as the monitoring agent itself runs. A
//     batch thread that wakes does not preempt the running one, so handing a
//     message from one of the daemon's threads to another (or to the broker's
//     connection) does not cost an extra context switch; the kernel still
//     shares the CPU fairly (nice values count as for SCHED_OTHER).
// Paths the program got relative to its start directory must be made
// absolute (AbsolutePath) before.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace cloudlink {

// The Linux scheduling policies a daemon may choose without privileges.
enum class SchedulingPolicy {
  kKeep,   // "keep": leave the policy the process was started with
  kOther,  // "other": SCHED_OTHER, the kernel's default
  kBatch,  // "batch": SCHED_BATCH
  kIdle,   // "idle": SCHED_IDLE, runs only when nothing else wants the CPU
};

// "keep", "other", "batch" or "idle"; false for anything else.
bool ParseSchedulingPolicy(absl::string_view text, SchedulingPolicy* policy);
std::string SchedulingPolicyName(SchedulingPolicy policy);

// Abseil flag support (cloudlinkd --scheduling-policy).
bool AbslParseFlag(absl::string_view text, SchedulingPolicy* policy,
                   std::string* error);
std::string AbslUnparseFlag(SchedulingPolicy policy);

struct HygieneOptions {
  // Keep the process's core dump settings (for debugging a crash).
  bool allow_core_dumps = false;
  SchedulingPolicy scheduling_policy = SchedulingPolicy::kBatch;
};

// One step's outcome, for the log.
struct HygieneStep {
  bool ok = true;    // false: the step failed (worth a warning)
  std::string text;  // "core dumps off", "open files limit 1024 -> 524288"
};

// Applies the above, one step after the other; a failed step is reported and
// the others still run (a policy the kernel refuses, e.g. leaving SCHED_IDLE
// without privileges, leaves every thread's policy as it was).
std::vector<HygieneStep> ApplyProcessHygiene(const HygieneOptions& options);

// `path` made absolute against the current directory; "" stays "".
std::string AbsolutePath(const std::string& path);

}  // namespace cloudlink
