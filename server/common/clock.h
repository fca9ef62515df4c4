#pragma once

// The clock seam (as LevelDB's Env): the link keeps time with a Clock so
// tests can move time, and so wall-clock jumps (NTP, a user's `date -s`)
// never fire keepalive timeouts or stretch backoffs: intervals use the
// monotonic clock, wall time is only for display.

#include "absl/time/time.h"

namespace cloudlink {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for timestamps shown to people.
  virtual absl::Time WallNow() = 0;
  // A monotonic time (CLOCK_MONOTONIC as an absl::Time since an arbitrary
  // epoch), for every interval and deadline.
  virtual absl::Time MonotonicNow() = 0;
};

// The process's real clocks. Thread-safe.
Clock* RealClock();

}  // namespace cloudlink
