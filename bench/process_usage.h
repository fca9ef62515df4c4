#pragma once

// CPU time and peak memory of this process (getrusage) and CPU time of
// another process (/proc/PID/stat), for the benchmarks' counters.
//
// Thread-safe (each call reads the kernel's counters).

#include <sys/types.h>

namespace cloudlink::bench {

// User plus system CPU seconds of every thread of this process so far.
double SelfCpuSeconds();

// Peak resident set size of this process so far (ru_maxrss), in MiB.
double SelfPeakRssMiB();

// User plus system CPU seconds of process `pid` so far; -1 when it cannot
// be read.
double ProcessCpuSeconds(pid_t pid);

}  // namespace cloudlink::bench
