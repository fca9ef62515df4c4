#include "server/link/takeover_guard.h"

#include "gtest/gtest.h"

namespace cloudlink::link {
namespace {

MonotonicTime At(absl::Duration d) {
  return MonotonicTime::FromAbslTime(absl::UnixEpoch() + d);
}

TEST(TakeoverGuardTest, RepeatedWithinTheWindowOnly) {
  TakeoverGuard guard;
  EXPECT_FALSE(guard.OnTakenOver(At(absl::Seconds(0))));
  EXPECT_FALSE(guard.OnTakenOver(At(absl::Minutes(3))));  // first one aged out
  EXPECT_FALSE(guard.OnTakenOver(At(absl::Minutes(4))));
  EXPECT_EQ(guard.MinDelay(), absl::ZeroDuration());
  EXPECT_TRUE(guard.OnTakenOver(At(absl::Minutes(4) + absl::Seconds(5))));
  EXPECT_EQ(guard.MinDelay(), absl::Seconds(15));
}

TEST(TakeoverGuardTest, DelayDoublesUpToTheMaximumAndResets) {
  TakeoverGuard guard;
  for (int i = 0; i < 3; ++i) guard.OnTakenOver(At(absl::Seconds(i)));
  ASSERT_TRUE(guard.repeated());
  absl::Duration expected = absl::Seconds(15);
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(guard.MinDelay(), expected);
    EXPECT_TRUE(guard.OnTakenOver(At(absl::Minutes(10 * (i + 1)))));
    expected = std::min(expected * 2, absl::Minutes(10));
  }
  EXPECT_EQ(guard.MinDelay(), absl::Minutes(10));
  guard.OnOtherEnd(absl::Minutes(1));  // a short session: still a clone
  EXPECT_TRUE(guard.repeated());
  guard.OnOtherEnd(absl::Minutes(10));  // the clone is gone
  EXPECT_FALSE(guard.repeated());
  EXPECT_EQ(guard.MinDelay(), absl::ZeroDuration());
}

}  // namespace
}  // namespace cloudlink::link
