#include "server/common/backoff.h"

#include <gtest/gtest.h>

namespace cloudlink {
namespace {

TEST(BackoffTest, DelaysStayWithinGrowingCeilingAndFloor) {
  Backoff backoff({2, absl::Seconds(1), absl::Seconds(60)});
  absl::Duration expected_ceiling = absl::Seconds(1);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(backoff.Ceiling(), expected_ceiling);
    absl::Duration d = backoff.Next();
    EXPECT_GE(d, absl::Seconds(1)) << "attempt " << i;
    EXPECT_LE(d, expected_ceiling) << "attempt " << i;
    expected_ceiling = std::min(expected_ceiling * 2, absl::Seconds(60));
  }
  EXPECT_EQ(backoff.attempts(), 20);
}

TEST(BackoffTest, JitterSpreadsDelays) {
  Backoff backoff({2, absl::Seconds(1), absl::Seconds(1024)});
  for (int i = 0; i < 8; ++i) backoff.Next();
  absl::Duration lo = absl::InfiniteDuration(), hi = absl::ZeroDuration();
  for (int i = 0; i < 50; ++i) {
    Backoff copy({2, absl::Seconds(1), absl::Seconds(1024)});
    for (int j = 0; j < 8; ++j) copy.Next();
    absl::Duration d = copy.Next();
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  // 50 draws from [1 s, 256 s] are not all within a few seconds.
  EXPECT_GT(hi - lo, absl::Seconds(10));
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff backoff({3, absl::Seconds(2), absl::Seconds(100)});
  for (int i = 0; i < 5; ++i) backoff.Next();
  EXPECT_EQ(backoff.Ceiling(), absl::Seconds(100));
  backoff.Reset();
  EXPECT_EQ(backoff.Ceiling(), absl::Seconds(2));
  EXPECT_EQ(backoff.Next(), absl::Seconds(2));
}

TEST(BackoffTest, ParamsAreClamped) {
  Backoff backoff({0, absl::ZeroDuration(), absl::ZeroDuration()});
  EXPECT_EQ(backoff.params().base, 1);
  EXPECT_EQ(backoff.params().min, absl::Milliseconds(100));
  EXPECT_EQ(backoff.params().max, absl::Milliseconds(100));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(100));
}

}  // namespace
}  // namespace cloudlink
