#include "server/common/thread_reserve.h"

#include <unistd.h>

#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/thread_switches.h"

namespace cloudlink {
namespace {

int ReserveThreads() {
  return testing::ThreadsNamed(getpid(), {"thread-reserve"});
}

// A first thread, so that threads a runtime starts lazily with the first
// one (TSan's) are there before a test counts.
void StartAndJoinAThread() {
  std::thread([] {}).join();
}

TEST(ThreadReserveTest, HoldsParkedThreadsAndReleaseGivesTheirSlotsBack) {
  StartAndJoinAThread();
  const int before = ProcessThreadCount();
  ASSERT_GT(before, 0);
  absl::StatusOr<std::unique_ptr<ThreadReserve>> reserve =
      ThreadReserve::Hold(3);
  ASSERT_TRUE(reserve.ok()) << reserve.status();
  EXPECT_EQ((*reserve)->size(), 3);
  EXPECT_EQ(ProcessThreadCount(), before + 3);
  EXPECT_EQ(ReserveThreads(), 3);

  // Release returns once the kernel counts them no more.
  EXPECT_TRUE((*reserve)->Release());
  EXPECT_EQ(ProcessThreadCount(), before);
  EXPECT_EQ(ReserveThreads(), 0);
  EXPECT_TRUE((*reserve)->Release());  // idempotent
}

TEST(ThreadReserveTest, DestroyingAReserveReleasesIt) {
  StartAndJoinAThread();
  const int before = ProcessThreadCount();
  {
    absl::StatusOr<std::unique_ptr<ThreadReserve>> reserve =
        ThreadReserve::Hold(2);
    ASSERT_TRUE(reserve.ok()) << reserve.status();
    EXPECT_EQ(ReserveThreads(), 2);
  }
  EXPECT_EQ(ReserveThreads(), 0);
  // The joined threads leave the count within a moment of the join.
  for (int i = 0; i < 1000 && ProcessThreadCount() != before; ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(ProcessThreadCount(), before);
}

TEST(ThreadReserveTest, AnEmptyReserveHoldsNothing) {
  absl::StatusOr<std::unique_ptr<ThreadReserve>> reserve =
      ThreadReserve::Hold(0);
  ASSERT_TRUE(reserve.ok());
  EXPECT_EQ((*reserve)->size(), 0);
  EXPECT_TRUE((*reserve)->Release());
}

}  // namespace
}  // namespace cloudlink
