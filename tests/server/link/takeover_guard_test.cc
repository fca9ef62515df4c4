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

// Brokers that close the connection without the 0x8E (mosquitto 2.0 over
// WebSocket): closes soon after the CONNACK count as takeovers; a long
// session's close does not.
TEST(TakeoverGuardTest, AbruptEndsSoonAfterConnectCount) {
  TakeoverGuard guard;
  EXPECT_FALSE(guard.OnAbruptEnd(At(absl::Seconds(0)), absl::Seconds(2)));
  EXPECT_FALSE(guard.OnAbruptEnd(At(absl::Seconds(5)), absl::Minutes(5)));
  EXPECT_FALSE(guard.OnAbruptEnd(At(absl::Seconds(10)), absl::Seconds(3)));
  EXPECT_FALSE(guard.repeated());
  EXPECT_TRUE(guard.OnAbruptEnd(At(absl::Seconds(15)), absl::Seconds(1)));
  EXPECT_EQ(guard.MinDelay(), absl::Seconds(15));
  // Once repeated, the other clone holds the session for as long as it
  // waits: a longer session still counts, up to twice max_delay.
  EXPECT_TRUE(guard.OnAbruptEnd(At(absl::Seconds(45)), absl::Minutes(5)));
  EXPECT_EQ(guard.MinDelay(), absl::Seconds(30));
  EXPECT_TRUE(guard.OnAbruptEnd(At(absl::Minutes(20)), absl::Minutes(11)));
  EXPECT_FALSE(guard.OnAbruptEnd(At(absl::Minutes(50)), absl::Minutes(20)));
  EXPECT_FALSE(guard.repeated());
}

TEST(TakeoverGuardTest, ParsesParams) {
  absl::StatusOr<TakeoverGuard::Params> params =
      TakeoverGuard::ParseParams("2,40s,20s,10s,1m");
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->takeovers, 2);
  EXPECT_EQ(params->window, absl::Seconds(40));
  EXPECT_EQ(params->abrupt_session, absl::Seconds(20));
  EXPECT_EQ(params->min_delay, absl::Seconds(10));
  EXPECT_EQ(params->max_delay, absl::Minutes(1));
  for (const char* bad :
       {"", "3,40s,20s,10s", "0,40s,20s,10s,20s", "3,x,20s,10s,20s",
        "3,40s,-1s,10s,20s", "3,40s,20s,10s,5s"}) {
    EXPECT_FALSE(TakeoverGuard::ParseParams(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace cloudlink::link
