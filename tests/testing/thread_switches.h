#pragma once

// Context switches of a process's threads, by thread name, from
// /proc/PID/task/TID/{comm,status}: how tests see which thread woke.

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace cloudlink::testing {

// Voluntary plus involuntary context switches so far of the threads of
// `pid` named `name` (summed), or -1 when it has no such thread.
int64_t ThreadSwitches(pid_t pid, const std::string& name);

}  // namespace cloudlink::testing
