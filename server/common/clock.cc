#include "server/common/clock.h"

#include <time.h>

#include "absl/time/clock.h"

namespace cloudlink {
namespace {

class RealClockImpl : public Clock {
 public:
  absl::Time WallNow() override { return absl::Now(); }
  absl::Time MonotonicNow() override {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return absl::UnixEpoch() + absl::Seconds(ts.tv_sec) +
           absl::Nanoseconds(ts.tv_nsec);
  }
};

}  // namespace

Clock* RealClock() {
  static Clock* clock = new RealClockImpl();
  return clock;
}

}  // namespace cloudlink
