#include "server/api/wait_pool.h"

#include <gtest/gtest.h>

#include <atomic>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "tests/testing/test_env.h"

namespace cloudlink::api {
namespace {

TEST(WaitPoolTest, AKeptThreadParksAndTakesTheNextJob) {
  WaitPool pool(2);
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.Run([&] { ++ran; }));
  ASSERT_TRUE(
      testing::WaitFor([&] { return pool.parked() == 1; }, absl::Seconds(10)));
  ASSERT_TRUE(pool.Run([&] { ++ran; }));
  ASSERT_TRUE(
      testing::WaitFor([&] { return ran.load() == 2; }, absl::Seconds(10)));
  EXPECT_EQ(pool.threads_started(), 1u);
}

// More blocking jobs than kept threads: every job runs at once (none queues
// behind another), the extra ones on threads of their own.
TEST(WaitPoolTest, JobsNeverQueueBehindBlockedOnes) {
  WaitPool pool(2);
  constexpr int kJobs = 5;
  std::atomic<int> started{0};
  std::atomic<int> ended{0};
  absl::Notification release;
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(pool.Run([&] {
      ++started;
      release.WaitForNotificationWithTimeout(absl::Seconds(20));
      ++ended;
    }));
  }
  EXPECT_TRUE(testing::WaitFor([&] { return started.load() == kJobs; },
                               absl::Seconds(10)));
  EXPECT_EQ(pool.threads_started(), uint64_t{kJobs});
  release.Notify();
  ASSERT_TRUE(testing::WaitFor([&] { return ended.load() == kJobs; },
                               absl::Seconds(10)));
  // The kept threads park again; the extra ones are gone.
  EXPECT_TRUE(
      testing::WaitFor([&] { return pool.parked() == 2; }, absl::Seconds(10)));
}

}  // namespace
}  // namespace cloudlink::api
