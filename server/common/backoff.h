#pragma once

// Exponential backoff with full jitter, in real time units:
// attempt n (from 0) waits a uniformly random delay in
// [min, min(max, min * base^n)], so it never spins (the floor is min) and
// never waits longer than max. Used for link reconnects (with the cloud's
// `backoff` values) and for automatic claim retries.
//
// Not thread-safe; one owner.

#include <cstdint>

#include "absl/random/random.h"
#include "absl/time/time.h"

namespace cloudlink {

struct BackoffParams {
  int base = 2;                              // growth factor, 1..10
  absl::Duration min = absl::Seconds(1);     // > 0
  absl::Duration max = absl::Seconds(1024);  // >= min
};

class Backoff {
 public:
  // Out-of-range params are clamped (base to 1..10, min to at least 100 ms,
  // max to at least min).
  explicit Backoff(BackoffParams params);

  // The delay before the next attempt; counts the attempt.
  absl::Duration Next();
  // Replaces the parameters (clamped as in the constructor), keeping the
  // attempt count: the cloud may send new values on every connect.
  void SetParams(BackoffParams params);
  // Starts over from attempt 0 (after a connection proved stable).
  void Reset() { attempts_ = 0; }
  // Attempts counted since the last Reset.
  int attempts() const { return attempts_; }
  // The upper bound Next() would draw from now.
  absl::Duration Ceiling() const;
  const BackoffParams& params() const { return params_; }

 private:
  BackoffParams params_;
  int attempts_ = 0;
  absl::BitGen gen_;
};

}  // namespace cloudlink
