#include "server/common/clock.h"

#include <chrono>

#include "absl/time/clock.h"

namespace cloudlink {
namespace {

class RealClockImpl : public Clock {
 public:
  absl::Time WallNow() override { return absl::Now(); }
  MonotonicTime MonotonicNow() override {
    return MonotonicTime::FromEpoch(
        absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch()));
  }
};

}  // namespace

Clock* RealClock() {
  static Clock* clock = new RealClockImpl();
  return clock;
}

}  // namespace cloudlink
