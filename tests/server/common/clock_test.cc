#include "server/common/clock.h"

#include <chrono>
#include <sstream>
#include <type_traits>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace cloudlink {
namespace {

// Wall and monotonic time do not mix: neither converts to the other.
static_assert(!std::is_convertible<absl::Time, MonotonicTime>::value, "");
static_assert(!std::is_convertible<MonotonicTime, absl::Time>::value, "");

TEST(MonotonicTimeTest, HasTimeArithmetic) {
  const MonotonicTime t = MonotonicTime::FromEpoch(absl::Seconds(100));
  EXPECT_EQ(MonotonicTime(), MonotonicTime::FromEpoch(absl::ZeroDuration()));
  EXPECT_EQ((t + absl::Seconds(5)).SinceEpoch(), absl::Seconds(105));
  EXPECT_EQ((absl::Seconds(5) + t).SinceEpoch(), absl::Seconds(105));
  EXPECT_EQ((t - absl::Seconds(5)).SinceEpoch(), absl::Seconds(95));
  EXPECT_EQ((t + absl::Seconds(5)) - t, absl::Seconds(5));
  EXPECT_EQ(t - (t + absl::Seconds(5)), absl::Seconds(-5));
  MonotonicTime u = t;
  u += absl::Milliseconds(1);
  EXPECT_GT(u, t);
  EXPECT_GE(u, t);
  EXPECT_LT(t, u);
  EXPECT_LE(t, u);
  EXPECT_NE(t, u);
  u -= absl::Milliseconds(1);
  EXPECT_EQ(t, u);
}

TEST(MonotonicTimeTest, InfiniteInstantsStayInfinite) {
  const MonotonicTime t = MonotonicTime::FromEpoch(absl::Hours(1));
  EXPECT_LT(MonotonicTime::InfinitePast(), t);
  EXPECT_GT(MonotonicTime::InfiniteFuture(), t);
  EXPECT_EQ(MonotonicTime::InfiniteFuture() + absl::Hours(1),
            MonotonicTime::InfiniteFuture());
  EXPECT_EQ(MonotonicTime::InfinitePast() - absl::Hours(1),
            MonotonicTime::InfinitePast());
  EXPECT_EQ(MonotonicTime::InfiniteFuture() - t, absl::InfiniteDuration());
  EXPECT_EQ(MonotonicTime::InfinitePast() - t, -absl::InfiniteDuration());
}

TEST(MonotonicTimeTest, ConvertsToAndFromAbslTimeAtTheBoundary) {
  const MonotonicTime t = MonotonicTime::FromEpoch(absl::Seconds(42));
  EXPECT_EQ(t.ToAbslTime(), absl::UnixEpoch() + absl::Seconds(42));
  EXPECT_EQ(MonotonicTime::FromAbslTime(t.ToAbslTime()), t);
  EXPECT_EQ(MonotonicTime::InfiniteFuture().ToAbslTime(),
            absl::InfiniteFuture());
  EXPECT_EQ(MonotonicTime::InfinitePast().ToAbslTime(), absl::InfinitePast());
  EXPECT_EQ(MonotonicTime::FromAbslTime(absl::InfiniteFuture()),
            MonotonicTime::InfiniteFuture());
}

TEST(MonotonicTimeTest, PrintsItsOffsetFromTheEpoch) {
  std::ostringstream out;
  out << MonotonicTime::FromEpoch(absl::Seconds(90));
  EXPECT_EQ(out.str(), "monotonic +1m30s");
}

// RealClock's monotonic readings are the steady clock's, which is what
// Mutex::AwaitWithDeadline waits on.
TEST(RealClockTest, MonotonicNowIsTheSteadyClock) {
  const absl::Duration before =
      absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
  const MonotonicTime now = RealClock()->MonotonicNow();
  const absl::Duration after =
      absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
  EXPECT_LE(before, now.SinceEpoch());
  EXPECT_LE(now.SinceEpoch(), after);
  EXPECT_LE(now, RealClock()->MonotonicNow());
}

}  // namespace
}  // namespace cloudlink
