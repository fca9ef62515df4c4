#pragma once

// Rate-limited logging for lines an attacker or an exhausted resource can
// repeat without end (accept errors, refused connections): at most one line
// per interval; the lines held back are counted, and the next line that goes
// out says how many there were.

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/log.h"
#include "server/common/mutex.h"

namespace cloudlink::api {

class LogThrottle {
 public:
  // `clock` must outlive the throttle.
  explicit LogThrottle(absl::Duration interval = absl::Seconds(1),
                       Clock* clock = RealClock())
      : interval_(interval), clock_(clock) {}

  // Logs `message` at `level` when no line went out in the last interval,
  // with " (and N more like it in the last S)" when lines were held back
  // since the previous one; otherwise counts it. Thread-safe.
  void Log(LogLevel level, absl::string_view message);

 private:
  const absl::Duration interval_;
  Clock* const clock_;
  Mutex mu_;
  MonotonicTime last_ ABSL_GUARDED_BY(mu_) = MonotonicTime::InfinitePast();
  int held_back_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cloudlink::api
