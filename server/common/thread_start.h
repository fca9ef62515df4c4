#pragma once

// Starting a thread as a value, not an exception: std::thread's constructor
// throws std::system_error when the kernel refuses a thread (a task limit
// such as a pids cgroup or systemd's TasksMax, RLIMIT_NPROC, no memory), and
// the daemon is built without catching it anywhere else, so an uncaught one
// aborted the whole process.

#include <functional>
#include <thread>

#include "absl/status/statusor.h"

namespace cloudlink {

// Starts `body` on a new thread. RESOURCE_EXHAUSTED with the system's
// message (no reason: callers wrap it in their own) when none can be made.
absl::StatusOr<std::thread> StartThread(std::function<void()> body);

}  // namespace cloudlink
