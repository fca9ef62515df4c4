#include "server/link/window_refill.h"

#include <gtest/gtest.h>

namespace cloudlink::link {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1000);

TEST(WindowRefillTest, EmptyWindowIsAlwaysDue) {
  WindowRefill refill;
  refill.Refilled(kStart);
  EXPECT_TRUE(refill.Due(20, 0, true, kStart));
  EXPECT_EQ(refill.deadline(), absl::InfiniteFuture());
}

TEST(WindowRefillTest, FullWindowIsNeverDue) {
  WindowRefill refill;
  refill.Refilled(kStart);
  EXPECT_FALSE(refill.Due(20, 20, true, kStart + absl::Seconds(10)));
  EXPECT_FALSE(refill.Due(20, 25, true, kStart + absl::Seconds(10)));
  EXPECT_EQ(refill.deadline(), absl::InfiniteFuture());
}

TEST(WindowRefillTest, WaitsForHalfTheWindowWhileWorkIsWaiting) {
  WindowRefill refill(absl::Milliseconds(5));
  refill.Refilled(kStart);
  const absl::Time soon = kStart + absl::Milliseconds(1);
  // 20 slots: one to nine free is not enough, ten is.
  for (size_t free = 1; free < 10; ++free) {
    EXPECT_FALSE(refill.Due(20, 20 - free, true, soon)) << free;
    EXPECT_EQ(refill.deadline(), kStart + absl::Milliseconds(5));
  }
  EXPECT_TRUE(refill.Due(20, 10, true, soon));
  EXPECT_EQ(refill.deadline(), absl::InfiniteFuture());
  // Odd windows round the half up; a window of one is due when empty.
  EXPECT_FALSE(refill.Due(5, 3, true, soon));
  EXPECT_TRUE(refill.Due(5, 2, true, soon));
  EXPECT_FALSE(refill.Due(1, 1, true, soon));
  EXPECT_TRUE(refill.Due(1, 0, true, soon));
}

TEST(WindowRefillTest, AFreeSlotIsFilledAfterTheDelay) {
  WindowRefill refill(absl::Milliseconds(5));
  refill.Refilled(kStart);
  EXPECT_FALSE(refill.Due(20, 19, true, kStart + absl::Milliseconds(4)));
  EXPECT_EQ(refill.deadline(), kStart + absl::Milliseconds(5));
  EXPECT_TRUE(refill.Due(20, 19, true, kStart + absl::Milliseconds(5)));
  refill.Refilled(kStart + absl::Milliseconds(5));
  EXPECT_FALSE(refill.Due(20, 19, true, kStart + absl::Milliseconds(6)));
  EXPECT_EQ(refill.deadline(), kStart + absl::Milliseconds(10));
}

TEST(WindowRefillTest, NothingWaitingIsDueAtOnce) {
  WindowRefill refill(absl::Milliseconds(5));
  refill.Refilled(kStart);
  EXPECT_TRUE(refill.Due(20, 19, false, kStart));
  EXPECT_EQ(refill.deadline(), absl::InfiniteFuture());
}

TEST(WindowRefillTest, FirstRefillIsDue) {
  WindowRefill refill;
  EXPECT_TRUE(refill.Due(20, 19, true, kStart));
}

}  // namespace
}  // namespace cloudlink::link
