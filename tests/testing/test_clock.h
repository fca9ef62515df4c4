#pragma once

// Clocks for tests of code that reads time through cloudlink::Clock.
// Thread-safe: the code under test reads them from its own threads.

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"

namespace cloudlink::testing {

// The real monotonic clock, and a wall clock the test steps: StepWall moves
// it once; with a `step_per_reading`, every WallNow() also moves it by that
// much after answering, a wall clock that keeps being set (-1 h: each
// reading is an hour before the one before it). Code that measured an
// interval or a deadline on the wall clock would be off by at least one
// step, whenever it read the clock.
class SteppingClock : public Clock {
 public:
  explicit SteppingClock(absl::Duration step_per_reading = absl::ZeroDuration())
      : step_per_reading_(step_per_reading) {}

  void StepWall(absl::Duration step);
  // WallNow() calls so far.
  int wall_readings() const;

  absl::Time WallNow() override;
  MonotonicTime MonotonicNow() override { return RealClock()->MonotonicNow(); }

 private:
  const absl::Duration step_per_reading_;
  mutable Mutex mu_;
  absl::Duration offset_ ABSL_GUARDED_BY(mu_);
  int readings_ ABSL_GUARDED_BY(mu_) = 0;
};

// Both clocks stand still until the test moves them, so a test fast-forwards
// time instead of sleeping. Code waiting on a real-time wait (a Mutex, a
// poll) still wakes on its own schedule; it notices the move when it next
// reads the clock.
class FakeClock : public Clock {
 public:
  FakeClock() = default;

  // Both clocks move forward by `d`.
  void Advance(absl::Duration d);
  // Only the wall clock moves (a step of NTP or `date -s`).
  void StepWall(absl::Duration d);

  absl::Time WallNow() override;
  MonotonicTime MonotonicNow() override;

 private:
  mutable Mutex mu_;
  absl::Time wall_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1700000000);
  MonotonicTime monotonic_ ABSL_GUARDED_BY(mu_) =
      MonotonicTime::FromEpoch(absl::Hours(1));
};

}  // namespace cloudlink::testing
