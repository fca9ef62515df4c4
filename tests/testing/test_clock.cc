#include "tests/testing/test_clock.h"

#include "absl/time/clock.h"

namespace cloudlink::testing {

void SteppingClock::StepWall(absl::Duration step) {
  MutexLock lock(&mu_);
  offset_ += step;
}

int SteppingClock::wall_readings() const {
  MutexLock lock(&mu_);
  return readings_;
}

absl::Time SteppingClock::WallNow() {
  MutexLock lock(&mu_);
  const absl::Time now = absl::Now() + offset_;
  offset_ += step_per_reading_;
  ++readings_;
  return now;
}

void FakeClock::Advance(absl::Duration d) {
  MutexLock lock(&mu_);
  wall_ += d;
  monotonic_ += d;
}

void FakeClock::StepWall(absl::Duration d) {
  MutexLock lock(&mu_);
  wall_ += d;
}

absl::Time FakeClock::WallNow() {
  MutexLock lock(&mu_);
  return wall_;
}

MonotonicTime FakeClock::MonotonicNow() {
  MutexLock lock(&mu_);
  return monotonic_;
}

}  // namespace cloudlink::testing
