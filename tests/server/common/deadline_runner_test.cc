#include "server/common/deadline_runner.h"

#include <memory>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/common/notification.h"

namespace cloudlink {
namespace {

TEST(DeadlineRunnerTest, WorkThatReturnsInTimeIsOkAndTheRunnerRunsMore) {
  absl::StatusOr<std::unique_ptr<DeadlineRunner>> runner =
      DeadlineRunner::Start();
  ASSERT_TRUE(runner.ok()) << runner.status();
  int runs = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE((*runner)->Run([&] { ++runs; }, absl::Seconds(10)).ok());
  }
  EXPECT_EQ(runs, 3);
}

TEST(DeadlineRunnerTest, WorkThatDoesNotReturnIsLeftAfterItsTimeout) {
  absl::StatusOr<std::unique_ptr<DeadlineRunner>> runner =
      DeadlineRunner::Start();
  ASSERT_TRUE(runner.ok()) << runner.status();
  auto release = std::make_shared<Notification>();
  auto returned = std::make_shared<Notification>();
  const absl::Time start = absl::Now();
  absl::Status status = (*runner)->Run(
      [release, returned] {
        release->WaitForNotification();
        returned->Notify();
      },
      absl::Milliseconds(200));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
  EXPECT_FALSE(returned->HasBeenNotified());

  // While it runs, more work is refused, not queued behind it.
  bool ran = false;
  status = (*runner)->Run([&] { ran = true; }, absl::Seconds(1));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_FALSE(ran);

  // The runner goes without waiting for it; the work ends later, on its
  // own, touching nothing of the runner (ASan and TSan would say).
  runner->reset();
  release->Notify();
  EXPECT_TRUE(returned->WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST(DeadlineRunnerTest, AnIdleRunnerEndsItsThreadWhenDestroyed) {
  absl::StatusOr<std::unique_ptr<DeadlineRunner>> runner =
      DeadlineRunner::Start();
  ASSERT_TRUE(runner.ok()) << runner.status();
  runner->reset();  // joins: a thread left waiting would hang here
}

}  // namespace
}  // namespace cloudlink
