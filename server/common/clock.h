#pragma once

// The clock seam (as LevelDB's Env): time is read through a Clock so tests
// can move it, and so wall-clock steps (NTP, a user's `date -s`) never fire
// keepalive timeouts, stretch backoffs or delay retries.
//
// Two kinds of time, two types. absl::Time is wall-clock time: for
// timestamps shown to people and for wall deadlines others hand us (gRPC's).
// MonotonicTime is a reading of a monotonic clock: for every interval,
// timeout and deadline. The compiler refuses to compare or subtract one from
// the other, so a wall-clock step cannot leak into a wait; converting a
// wall deadline is explicit: Clock::MonotonicNow() + (deadline - WallNow()).

#include <ostream>

#include "absl/time/time.h"

namespace cloudlink {

// An instant of a monotonic clock, as the duration since that clock's epoch
// (an arbitrary instant, fixed for the clock's life; RealClock()'s is the
// boot). Readings of different clocks do not compare. A plain value, with
// absl::Time's arithmetic: MonotonicTime ± absl::Duration, MonotonicTime -
// MonotonicTime, comparisons, and infinite instants that stay infinite.
class MonotonicTime {
 public:
  // The clock's epoch.
  MonotonicTime() = default;
  static MonotonicTime FromEpoch(absl::Duration since_epoch) {
    return MonotonicTime(since_epoch);
  }
  // Before and after every reading: "never" and "no deadline".
  static MonotonicTime InfinitePast() {
    return MonotonicTime(-absl::InfiniteDuration());
  }
  static MonotonicTime InfiniteFuture() {
    return MonotonicTime(absl::InfiniteDuration());
  }

  absl::Duration SinceEpoch() const { return since_epoch_; }

  // The same instant as an absl::Time (absl::UnixEpoch() + SinceEpoch()),
  // for code that keeps monotonic time in absl::Time (the cloud link and
  // the MQTT session take `absl::Time now`). Never compare the result with
  // wall time. FromAbslTime is the inverse.
  absl::Time ToAbslTime() const { return absl::UnixEpoch() + since_epoch_; }
  static MonotonicTime FromAbslTime(absl::Time t) {
    return MonotonicTime(t - absl::UnixEpoch());
  }

  MonotonicTime& operator+=(absl::Duration d) {
    since_epoch_ += d;
    return *this;
  }
  MonotonicTime& operator-=(absl::Duration d) {
    since_epoch_ -= d;
    return *this;
  }

  friend MonotonicTime operator+(MonotonicTime t, absl::Duration d) {
    return t += d;
  }
  friend MonotonicTime operator+(absl::Duration d, MonotonicTime t) {
    return t += d;
  }
  friend MonotonicTime operator-(MonotonicTime t, absl::Duration d) {
    return t -= d;
  }
  friend absl::Duration operator-(MonotonicTime a, MonotonicTime b) {
    return a.since_epoch_ - b.since_epoch_;
  }
  friend bool operator==(MonotonicTime a, MonotonicTime b) {
    return a.since_epoch_ == b.since_epoch_;
  }
  friend bool operator!=(MonotonicTime a, MonotonicTime b) {
    return a.since_epoch_ != b.since_epoch_;
  }
  friend bool operator<(MonotonicTime a, MonotonicTime b) {
    return a.since_epoch_ < b.since_epoch_;
  }
  friend bool operator<=(MonotonicTime a, MonotonicTime b) {
    return a.since_epoch_ <= b.since_epoch_;
  }
  friend bool operator>(MonotonicTime a, MonotonicTime b) {
    return a.since_epoch_ > b.since_epoch_;
  }
  friend bool operator>=(MonotonicTime a, MonotonicTime b) {
    return a.since_epoch_ >= b.since_epoch_;
  }
  // "monotonic +1h2m3s" (the time since the epoch), for test failures.
  friend std::ostream& operator<<(std::ostream& out, MonotonicTime t) {
    return out << "monotonic +" << absl::FormatDuration(t.since_epoch_);
  }

 private:
  explicit MonotonicTime(absl::Duration since_epoch)
      : since_epoch_(since_epoch) {}

  absl::Duration since_epoch_;
};

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for timestamps shown to people.
  virtual absl::Time WallNow() = 0;
  // Monotonic time, for every interval and deadline.
  virtual MonotonicTime MonotonicNow() = 0;
};

// The process's real clocks: absl::Now(), and std::chrono::steady_clock
// (CLOCK_MONOTONIC, the clock Mutex's waits use), so its MonotonicNow()
// readings are the deadlines Mutex::AwaitWithDeadline takes. Thread-safe.
Clock* RealClock();

}  // namespace cloudlink
