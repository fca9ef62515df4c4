#pragma once

// Context switches of a process's threads, by thread name, from
// /proc/PID/task/TID/{comm,status}: how tests see which thread woke.

#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace cloudlink::testing {

// Voluntary plus involuntary context switches so far of the threads of
// `pid` named `name` (summed), or -1 when it has no such thread.
int64_t ThreadSwitches(pid_t pid, const std::string& name);

// How many threads of `pid` have a name (as /proc cuts it, 15 characters)
// starting with one of `prefixes`; -1 when `pid` cannot be read.
int ThreadsNamed(pid_t pid, std::initializer_list<absl::string_view> prefixes);

// How many threads of `pid` gRPC 1.51 started (its timer threads, the
// callback queue's, the executors, the synchronous server's pollers), by
// the names it gives them; -1 when `pid` cannot be read.
int GrpcThreads(pid_t pid);

}  // namespace cloudlink::testing
