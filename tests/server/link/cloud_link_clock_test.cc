// CloudLink under wall-clock jumps: through the
// clock seam, wall time jumps an hour forward and back on every reading
// while monotonic time runs normally. The reconnect backoff is measured on
// the monotonic clock, so its spacing must not change; the wall clock only
// stamps next_attempt for display.

#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "server/common/mutex.h"
#include "server/link/cloud_link.h"
#include "tests/server/link/fake_wss_connector.h"

namespace cloudlink::link {
namespace {

// Monotonic time is real; wall time is real ± 1 hour, alternating on every
// reading (an NTP step, a user's `date -s`, and back).
class JumpingWallClock : public Clock {
 public:
  absl::Time WallNow() override {
    MutexLock lock(&mu_);
    forward_ = !forward_;
    ++wall_reads_;
    return absl::Now() + (forward_ ? absl::Hours(1) : -absl::Hours(1));
  }
  MonotonicTime MonotonicNow() override { return RealClock()->MonotonicNow(); }
  int wall_reads() const {
    MutexLock lock(&mu_);
    return wall_reads_;
  }

 private:
  mutable Mutex mu_;
  bool forward_ = false;
  int wall_reads_ = 0;
};

// The cloud is unreachable: every request fails at once; each one's
// monotonic time is recorded.
class UnreachableCloud : public http::HttpClient {
 public:
  absl::StatusOr<http::HttpResponse> Send(
      const http::HttpRequest&, const http::TransportOptions&) override {
    MutexLock lock(&mu_);
    times_.push_back(RealClock()->MonotonicNow());
    return Error(absl::StatusCode::kUnavailable, reason::kConnectFailed,
                 "connection refused (test)");
  }
  std::vector<MonotonicTime> times() const {
    MutexLock lock(&mu_);
    return times_;
  }
  bool WaitForRequests(size_t count, absl::Duration timeout) const {
    MutexLock lock(&mu_);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return times_.size() >= count;
    };
    return mu_.AwaitWithTimeout(enough, timeout);
  }

 private:
  mutable Mutex mu_;
  std::vector<MonotonicTime> times_ ABSL_GUARDED_BY(mu_);
};

TEST(CloudLinkClockTest, WallClockJumpsLeaveTheBackoffAlone) {
  JumpingWallClock clock;
  UnreachableCloud cloud;
  Mutex mu;
  std::vector<LinkStatus> reports;
  testing::FakeClock unused_clock;
  testing::FakeWssConnector never_reached(&unused_clock);
  CloudLink link(&cloud, &never_reached, &clock, [&](const LinkStatus& status) {
    MutexLock lock(&mu);
    reports.push_back(status);
  });
  LinkConfig config;
  config.url = "https://cloud.example";
  config.claim_id = "53aa76c2-8af5-448f-849a-b16872cc4ba1";
  config.proxy = "none";
  link.Start(config);

  // Default backoff (base 2, 1 s .. 1024 s, full jitter): the first retry
  // waits exactly 1 s, the second 1..2 s.
  ASSERT_TRUE(cloud.WaitForRequests(3, absl::Seconds(10)));
  const std::vector<MonotonicTime> times = cloud.times();
  link.Stop();
  const absl::Duration tolerance = absl::Milliseconds(300);
  EXPECT_GE(times[1] - times[0], absl::Seconds(1) - absl::Milliseconds(5));
  EXPECT_LE(times[1] - times[0], absl::Seconds(1) + tolerance);
  EXPECT_GE(times[2] - times[1], absl::Seconds(1) - absl::Milliseconds(5));
  EXPECT_LE(times[2] - times[1], absl::Seconds(2) + tolerance);
  EXPECT_GT(clock.wall_reads(), 0);  // the jumping clock was in use

  MutexLock lock(&mu);
  bool saw_backoff = false;
  for (const LinkStatus& status : reports) {
    if (status.next_attempt == absl::InfinitePast()) continue;
    saw_backoff = true;
    // Delays are what the backoff drew, never stretched or shrunk by an
    // hour; next_attempt is a wall stamp within an hour and a bit of now.
    EXPECT_GE(status.last_backoff, absl::Seconds(1));
    EXPECT_LE(status.last_backoff, absl::Seconds(4));  // third draw: 1..4 s
    EXPECT_LE(absl::AbsDuration(status.next_attempt - absl::Now()),
              absl::Hours(1) + absl::Seconds(5));
    EXPECT_FALSE(status.online);
    EXPECT_EQ(status.reason.rfind("CONNECT_FAILED", 0), 0u) << status.reason;
  }
  EXPECT_TRUE(saw_backoff);
}

}  // namespace
}  // namespace cloudlink::link
