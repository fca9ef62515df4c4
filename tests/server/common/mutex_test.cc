#include "server/common/mutex.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/common/notification.h"

namespace cloudlink {
namespace {

TEST(MutexTest, AwaitReturnsOnceAnotherThreadMakesTheConditionTrue) {
  Mutex mu;
  int value = 0;
  std::thread writer([&] {
    for (int i = 0; i < 100; ++i) {
      MutexLock lock(&mu);
      ++value;  // no signal: unlocking is what wakes the waiter
    }
  });
  {
    MutexLock lock(&mu);
    mu.Await([&] { return value == 100; });
    EXPECT_EQ(value, 100);
  }
  writer.join();
}

TEST(MutexTest, AwaitWithTimeoutGivesUpAndReportsTheCondition) {
  Mutex mu;
  bool flag = false;
  MutexLock lock(&mu);
  const MonotonicTime start = RealClock()->MonotonicNow();
  EXPECT_FALSE(mu.AwaitWithTimeout(&flag, absl::Milliseconds(50)));
  EXPECT_GE(RealClock()->MonotonicNow() - start, absl::Milliseconds(50));
  flag = true;
  EXPECT_TRUE(mu.AwaitWithTimeout(&flag, absl::ZeroDuration()));
}

TEST(MutexTest, AwaitWithDeadlineInThePastChecksOnce) {
  Mutex mu;
  MutexLock lock(&mu);
  EXPECT_FALSE(mu.AwaitWithDeadline(
      [] { return false; }, RealClock()->MonotonicNow() - absl::Hours(1)));
  EXPECT_TRUE(
      mu.AwaitWithDeadline([] { return true; }, MonotonicTime::InfinitePast()));
  EXPECT_FALSE(mu.AwaitWithDeadline([] { return false; },
                                    MonotonicTime::InfinitePast()));
}

// The deadline is a monotonic reading: the wait lasts until the steady
// clock gets there, whatever the wall clock does.
TEST(MutexTest, AwaitWithDeadlineWaitsOnTheMonotonicClock) {
  Mutex mu;
  MutexLock lock(&mu);
  const MonotonicTime start = RealClock()->MonotonicNow();
  EXPECT_FALSE(mu.AwaitWithDeadline([] { return false; },
                                    start + absl::Milliseconds(50)));
  const absl::Duration took = RealClock()->MonotonicNow() - start;
  EXPECT_GE(took, absl::Milliseconds(50));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST(MutexTest, InfiniteDeadlineWaitsUntilTheConditionHolds) {
  Mutex mu;
  bool flag = false;
  std::thread writer([&] {
    MutexLock lock(&mu);
    flag = true;
  });
  {
    MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithDeadline(&flag, MonotonicTime::InfiniteFuture()));
  }
  writer.join();
}

// The hand-off a spool flush makes: a thread changes guarded state and then
// waits itself, without unlocking in between. Entering the wait must wake
// the thread already waiting for that state, which then answers.
TEST(MutexTest, EnteringAWaitWakesThoseAlreadyWaiting) {
  Mutex mu;
  int requested = 0;
  int done = 0;
  std::thread worker([&] {
    MutexLock lock(&mu);
    ASSERT_TRUE(
        mu.AwaitWithTimeout([&] { return requested > 0; }, absl::Seconds(30)));
    done = requested;
  });
  // Let the worker reach its wait first (either order must work).
  {
    MutexLock lock(&mu);
    mu.AwaitWithTimeout([] { return false; }, absl::Milliseconds(20));
  }
  {
    MutexLock lock(&mu);
    ++requested;
    EXPECT_TRUE(
        mu.AwaitWithTimeout([&] { return done == 1; }, absl::Seconds(30)));
  }
  worker.join();
}

// A waiter may destroy the Mutex as soon as its wait returns (a call object
// deleted once its last callback ran). Unlock() must not touch the Mutex
// after the waiter can run; ASan and TSan builds catch it if it does.
TEST(MutexTest, AWaiterMayDestroyTheMutexAtOnce) {
  struct Call {
    Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
  };
  for (int i = 0; i < 200; ++i) {
    auto* call = new Call;
    std::thread callback([call] {
      MutexLock lock(&call->mu);
      call->done = true;
    });
    {
      MutexLock lock(&call->mu);
      call->mu.Await(&call->done);
    }
    delete call;
    callback.join();
  }
}

TEST(MutexTest, ManyWaitersAllWake) {
  Mutex mu;
  int released = 0;
  bool go = false;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 8; ++i) {
    waiters.emplace_back([&] {
      MutexLock lock(&mu);
      ASSERT_TRUE(mu.AwaitWithTimeout(&go, absl::Seconds(30)));
      ++released;
    });
  }
  {
    MutexLock lock(&mu);
    go = true;
  }
  for (auto& t : waiters) t.join();
  MutexLock lock(&mu);
  EXPECT_EQ(released, 8);
}

// Unlocks that leave a waiter's condition false do not wake it: the
// unlocking thread evaluates the condition. (A spool writer waiting for
// work was woken by every unrelated critical section.)
TEST(MutexTest, UnlocksThatLeaveTheConditionFalseWakeNobody) {
  Mutex mu;
  bool go = false;
  int unrelated = 0;
  std::atomic<std::thread::id> waiter_id{};
  std::atomic<int> checks_on_waiter{0};
  Notification waiting;
  std::thread waiter([&] {
    waiter_id = std::this_thread::get_id();
    MutexLock lock(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(
        [&] {
          if (std::this_thread::get_id() == waiter_id.load()) {
            ++checks_on_waiter;
            if (!waiting.HasBeenNotified()) waiting.Notify();
          }
          return go;
        },
        absl::Seconds(30)));
  });
  waiting.WaitForNotification();
  // The waiter holds the lock from its first check until it waits, so each
  // of these critical sections runs while it waits.
  for (int i = 0; i < 1000; ++i) {
    MutexLock lock(&mu);
    ++unrelated;
  }
  {
    MutexLock lock(&mu);
    go = true;
  }
  waiter.join();
  // Its first check, and the one after the wake-up that found `go`.
  EXPECT_LE(checks_on_waiter.load(), 2);
}

TEST(NotificationTest, WaitersSeeNotify) {
  Notification done;
  EXPECT_FALSE(done.HasBeenNotified());
  EXPECT_FALSE(done.WaitForNotificationWithTimeout(absl::Milliseconds(10)));
  std::thread notifier([&] { done.Notify(); });
  done.WaitForNotification();
  EXPECT_TRUE(done.HasBeenNotified());
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::ZeroDuration()));
  notifier.join();
}

}  // namespace
}  // namespace cloudlink
